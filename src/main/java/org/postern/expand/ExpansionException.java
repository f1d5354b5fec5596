package org.postern.expand;

/**
 * An {@link Expansion} could not be evaluated: a condition string was neither true nor false, a
 * {@code bool} or numeric comparison got a value it cannot interpret, a regular expression built
 * from variables is invalid or too expensive, or the result grew beyond the output limit.
 *
 * <p>The message says what failed and where in the expansion string ("at offset N"), but never
 * contains variable values: expansions see passwords ({@code $auth2}) and the message typically
 * ends up in a log.
 *
 * <p>Unchecked so that callers of {@link Expansion#expand} can catch it too (an expansion of a
 * {@code message} option can fail like a condition can), without forcing every caller of
 * {@code expand} to declare it.
 */
public final class ExpansionException extends RuntimeException {
  /** Creates the exception; {@code message} must not contain variable values. */
  public ExpansionException(String message) {
    super(message);
  }
}
