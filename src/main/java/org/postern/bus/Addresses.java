package org.postern.bus;

/**
 * Event-bus addresses of Postern's verticles. A plugin is a verticle that consumes one of these
 * (or a new {@code postern.acl.condition.*}, {@code postern.auth.*} or {@code postern.deliver.*}
 * address that the configuration refers to). Every message body is a {@code JsonObject}.
 */
public final class Addresses {
  /** A new connection: connection facts in, greeting reply (after the connect ACL) out. */
  public static final String SESSION_OPEN = "postern.session.open";
  /** One command line of a session: reply text and the action the listener must take. */
  public static final String SESSION_COMMAND = "postern.session.command";
  /** End of DATA: the spooled message's facts in, final reply and envelope to commit out. */
  public static final String SESSION_DATA = "postern.session.data";
  /** STARTTLS finished: {@code {id, tls: facts}} or {@code {id, failed: true}}; the session resets to the greeting. */
  public static final String SESSION_TLS = "postern.session.tls";
  /** The connection is gone (QUIT or not); the session forgets its state. Fire and forget. */
  public static final String SESSION_CLOSE = "postern.session.close";
  /** ACL evaluation: {@code {stage, variables}} in, {@code AclVerdict} JSON out. */
  public static final String ACL_CHECK = "postern.acl.check";
  /** Prefix of plugin ACL conditions: {@code postern.acl.condition.<name>}. */
  public static final String ACL_CONDITION_PREFIX = "postern.acl.condition.";
  /** Prefix of SASL mechanisms: {@code postern.auth.PLAIN}, ...; {@code postern.auth.cancel} ends an exchange. */
  public static final String AUTH_PREFIX = "postern.auth.";
  /** A committed message: {@code {id}} in; replies once its first delivery attempt is over. */
  public static final String QUEUE_ENQUEUE = "postern.queue.enqueue";
  /**
   * Queue run request (cluster-wide), {@code {domain?, subdomains?, force?, ids?, thaw?, wait?}}, answered
   * {@code {started: n}}, n the number of messages whose delivery it started:
   * <ul>
   * <li>{@code {}}: a queue run ({@code -q}); {@code force: true} ignores retry times ({@code -qf});
   * <li>{@code domain}: only messages with a pending recipient in that domain (ETRN, {@code -R});
   *     with {@code subdomains: true} also in its subdomains (ETRN {@code @domain});
   * <li>{@code ids: [...]}: only these messages ({@code -M});
   * <li>{@code thaw: true}: frozen messages too, thawed first ({@code -M}, {@code -qff}); without
   *     it they are left alone;
   * <li>{@code wait: true}: reply only once the deliveries it started are over (the command line
   *     waits for them before it exits); without it, reply as soon as they are started (ETRN).
   * </ul>
   * Every delivery holds the message's {@link org.postern.spool.MessageLock}, so a runner in
   * another process skips what this one is delivering.
   */
  public static final String QUEUE_FLUSH = "postern.queue.flush";
  /** Prefix of delivery transports: {@code postern.deliver.<transport>}. */
  public static final String DELIVER_PREFIX = "postern.deliver.";
  /** Published (cluster-wide) after a configuration generation was accepted: {@code {generation}}. */
  public static final String CONFIG_CHANGED = "postern.config.changed";
  /**
   * Published (cluster-wide) when a changed configuration was refused and the previous generation
   * stays in force: {@code {error}}, the refusal with file, line and option as the log has it.
   */
  public static final String CONFIG_REFUSED = "postern.config.refused";
  /** Ask every node to re-read its configuration now. */
  public static final String CONFIG_RELOAD = "postern.config.reload";

  private Addresses() {
  }
}
