package org.postern.spool;

import java.nio.file.NoSuchFileException;

/**
 * A message whose envelope names it but whose bytes did not all reach the disk before a crash: it
 * was never acknowledged (the 250 waits for every sync of its commit, {@link Spool#commit}), so it
 * does not exist. A {@link NoSuchFileException}, so that a reader that skips messages removed
 * meanwhile skips this one too; {@link Spool#readEnvelope} has removed it and logged why.
 */
public final class TornMessageException extends NoSuchFileException {
  private static final long serialVersionUID = 1L;

  TornMessageException(String file, String reason) {
    super(file, null, reason);
  }
}
