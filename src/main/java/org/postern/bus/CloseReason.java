package org.postern.bus;

/**
 * Why a session ended, as {@code postern.session.close} carries it. The wire form is Exim's
 * {@code $smtp_notquit_reason} value where Exim has one, and the notquit ACL sees it as
 * {@code $reason}; it does not run where Exim's does not (QUIT, a connect ACL's deny, a batch
 * abandoned at its first error).
 */
public enum CloseReason {
  /** The client sent QUIT and got 221: the quit ACL ran instead. */
  QUIT("quit", false),
  /** The connect ACL denied the connection (Exim runs no notquit ACL then; a drop is {@link #ACL_DROP}). */
  CONNECT_REFUSED("connect-refused", false),
  /** An ACL said {@code drop}. */
  ACL_DROP("acl-drop", true),
  /** Too many unknown commands, syntax or protocol errors, or AUTH failures. */
  BAD_COMMANDS("bad-commands", true),
  /** {@code smtp_receive_timeout} ran out while waiting for a command. */
  COMMAND_TIMEOUT("command-timeout", true),
  /** {@code smtp_receive_timeout} ran out while receiving message content. */
  DATA_TIMEOUT("data-timeout", true),
  /** The client went away without QUIT. */
  CONNECTION_LOST("connection-lost", true),
  /** Input sent before the greeting or past a synchronization point ({@code smtp_enforce_sync}). */
  SYNCHRONIZATION_ERROR("synchronization-error", true),
  /** The client went away after a failed TLS handshake. */
  TLS_FAILED("tls-failed", true),
  /** The server is shutting down (Exim: SIGTERM). */
  SIGNAL_EXIT("signal-exit", true),
  /** The session tier did not answer (a Postern value: Exim has none). */
  INTERNAL_ERROR("internal-error", true),
  /** {@code -bS} abandoned the batch at its first error (Exim runs no notquit ACL then). */
  BATCH_ERROR("batch-error", false);

  private final String wire;
  private final boolean notQuit;

  CloseReason(String wire, boolean notQuit) {
    this.wire = wire;
    this.notQuit = notQuit;
  }

  /** Exim's {@code $smtp_notquit_reason} spelling: {@code connection-lost}, {@code acl-drop}, ... */
  public String wire() {
    return wire;
  }

  /** True when the notquit ACL runs for this ending. */
  public boolean runsNotQuitAcl() {
    return notQuit;
  }

  /** The reason for a wire name; {@link IllegalArgumentException} for an unknown one. */
  public static CloseReason fromWire(String wire) {
    for (CloseReason r : values()) {
      if (r.wire.equals(wire)) {
        return r;
      }
    }
    throw new IllegalArgumentException("unknown close reason: " + wire);
  }
}
