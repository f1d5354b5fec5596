package org.postern.smtp;

/**
 * The fixed replies of the SMTP service, each with its RFC 5321 code and RFC 3463 enhanced code.
 * Replies that carry variable text are built from these with {@link SmtpReply#withText}.
 */
public final class Replies {
  public static final SmtpReply OK = SmtpReply.of(250, "2.0.0", "OK");
  public static final SmtpReply SENDER_OK = SmtpReply.of(250, "2.1.0", "OK");
  public static final SmtpReply RECIPIENT_OK = SmtpReply.of(250, "2.1.5", "OK");
  public static final SmtpReply RESET_OK = SmtpReply.of(250, "2.0.0", "Reset OK");
  public static final SmtpReply NOOP_OK = SmtpReply.of(250, "2.0.0", "OK");
  /** ETRN (RFC 1985): the texts name the node; see {@code EtrnCommand}. */
  public static final SmtpReply ETRN_STARTED = SmtpReply.of(250, "2.0.0", "Queuing for node started");
  public static final SmtpReply ETRN_NOTHING_WAITING = SmtpReply.of(251, "2.0.0", "OK, no messages waiting for node");
  public static final SmtpReply CANNOT_VRFY = SmtpReply.of(252, "2.1.5",
      "Cannot VRFY user, but will accept message and attempt delivery");
  public static final SmtpReply START_DATA = SmtpReply.of(354, null, "Enter message, ending with \".\" on a line by itself");
  public static final SmtpReply BYE = SmtpReply.of(221, "2.0.0", "closing connection");

  public static final SmtpReply SERVICE_SHUTDOWN = SmtpReply.of(421, "4.3.2", "Service shutting down, closing channel");
  public static final SmtpReply TIMEOUT = SmtpReply.of(421, "4.4.2", "SMTP incoming data timeout - closing connection");
  public static final SmtpReply TOO_MANY_CONNECTIONS = SmtpReply.of(421, "4.7.0",
      "Too many concurrent SMTP connections; please try again later");
  public static final SmtpReply TOO_MANY_CONNECTIONS_FROM_HOST = SmtpReply.of(421, "4.7.0",
      "Too many concurrent SMTP connections from this IP address; please try again later");
  public static final SmtpReply TOO_MANY_UNKNOWN = SmtpReply.of(421, "4.7.0",
      "Too many unrecognized commands - closing connection");
  public static final SmtpReply TEMPORARY_LOCAL_ERROR = SmtpReply.of(451, "4.3.0", "Temporary local problem - please try later");
  public static final SmtpReply POLICY_DEFERRED = SmtpReply.of(451, "4.7.1", "Temporary local problem - please try later");
  public static final SmtpReply TOO_MANY_RECIPIENTS = SmtpReply.of(452, "4.5.3", "Too many recipients");
  public static final SmtpReply ETRN_UNABLE = SmtpReply.of(458, "4.5.0", "Unable to queue messages for node");
  public static final SmtpReply ETRN_NODE_NOT_ALLOWED = SmtpReply.of(459, "4.5.0", "Node not allowed");
  public static final SmtpReply INSUFFICIENT_STORAGE = SmtpReply.of(452, "4.3.1", "Insufficient system storage");

  public static final SmtpReply UNKNOWN_COMMAND = SmtpReply.of(500, "5.5.1", "Unrecognized command");
  public static final SmtpReply LINE_TOO_LONG = SmtpReply.of(500, "5.5.2", "Line too long");
  public static final SmtpReply BARE_LF_COMMAND = SmtpReply.of(500, "5.5.2", "Bare LF line ending in command: use CRLF");
  public static final SmtpReply BAD_CHARACTERS = SmtpReply.of(500, "5.5.2", "NUL or CR character in command");
  public static final SmtpReply SYNTAX_ERROR = SmtpReply.of(501, "5.5.4", "Syntax error in parameters or arguments");
  public static final SmtpReply NOT_IMPLEMENTED = SmtpReply.of(502, "5.5.1", "Command not implemented");
  public static final SmtpReply BAD_SEQUENCE = SmtpReply.of(503, "5.5.1", "Bad sequence of commands");
  public static final SmtpReply PARAMETER_NOT_IMPLEMENTED = SmtpReply.of(504, "5.5.4", "Command parameter not implemented");
  public static final SmtpReply MAILBOX_UNKNOWN = SmtpReply.of(550, "5.1.1", "Unknown user");
  public static final SmtpReply RELAY_DENIED = SmtpReply.of(550, "5.7.1", "Relay not permitted");
  public static final SmtpReply ADMINISTRATIVE_PROHIBITION = SmtpReply.of(550, "5.7.1", "Administrative prohibition");
  public static final SmtpReply BARE_LF_DATA = SmtpReply.of(550, "5.6.0",
      "Message contains bare LF or bare CR line endings (RFC 5321 2.3.8); use CRLF");
  public static final SmtpReply MESSAGE_TOO_BIG = SmtpReply.of(552, "5.3.4", "Message size exceeds fixed maximum message size");
  public static final SmtpReply BAD_ADDRESS = SmtpReply.of(553, "5.1.3", "Bad address syntax");
  public static final SmtpReply SYNC_ERROR = SmtpReply.of(554, "5.5.0", "SMTP synchronization error");
  public static final SmtpReply TRANSACTION_FAILED = SmtpReply.of(554, "5.0.0", "Transaction failed");
  public static final SmtpReply PARAMETER_UNRECOGNIZED = SmtpReply.of(555, "5.5.4", "Unsupported MAIL/RCPT parameter");

  private Replies() {
  }
}
