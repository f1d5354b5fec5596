package org.postern.session;

import org.postern.smtp.MailPath;

import java.util.ArrayList;
import java.util.List;

/**
 * One mail transaction: from MAIL to the end of DATA. RSET, HELO/EHLO and the end of DATA replace
 * it with a fresh one; nothing of a transaction leaks into the next.
 */
final class Transaction {
  private MailPath sender;
  private final List<MailPath> recipients = new ArrayList<>();
  private int discardedRecipients;
  private long declaredSize = -1;
  private String bodyType = "7BIT";
  private String messageId;
  private String authenticatedSender;
  private DsnParameters.Mail dsn = DsnParameters.Mail.NONE;
  private final List<String> addedHeaders = new ArrayList<>();
  private final java.util.Set<org.postern.policy.AclControl> controls = java.util.EnumSet.noneOf(org.postern.policy.AclControl.class);
  private String submissionDomain;
  /** A session filter said {@code discard}: the message is accepted and dropped (Postfix's milter discard). */
  private boolean discardedByFilter;
  /** Bytes of Postern's own header lines at the start of the data file (Received and ACL headers). */
  private int prefixLength;
  /** The message is arriving in BDAT chunks (RFC 3030): DATA may not follow, nor anything but BDAT, RSET, NOOP, QUIT. */
  private boolean chunked;

  boolean hasSender() {
    return sender != null;
  }

  MailPath sender() {
    return sender;
  }

  void sender(MailPath path, long size, String body) {
    this.sender = path;
    this.declaredSize = size;
    this.bodyType = body;
  }

  List<MailPath> recipients() {
    return recipients;
  }

  /** Recipients accepted with 250, including those an ACL discarded. */
  int acceptedCount() {
    return recipients.size() + discardedRecipients;
  }

  void discardRecipient() {
    discardedRecipients++;
  }

  long declaredSize() {
    return declaredSize;
  }

  String bodyType() {
    return bodyType;
  }

  /** The MAIL AUTH= value kept for an authenticated client ("<>" otherwise), or null when none was given. */
  String authenticatedSender() {
    return authenticatedSender;
  }

  void authenticatedSender(String value) {
    this.authenticatedSender = value;
  }

  /** MAIL's RET= and ENVID= (RFC 3461). */
  DsnParameters.Mail dsn() {
    return dsn;
  }

  void dsn(DsnParameters.Mail value) {
    this.dsn = value;
  }

  String messageId() {
    return messageId;
  }

  void messageId(String id) {
    this.messageId = id;
  }

  /** Header lines ACLs added ({@code add_header}) so far, in order. */
  List<String> addedHeaders() {
    return addedHeaders;
  }

  /** Controls ({@code control = queue}, ...) that apply to this message. */
  java.util.Set<org.postern.policy.AclControl> controls() {
    return controls;
  }

  /** {@code control = submission/domain=...}: the domain for added headers, or null for the default. */
  String submissionDomain() {
    return submissionDomain;
  }

  void submissionDomain(String domain) {
    this.submissionDomain = domain;
  }

  boolean isDiscardedByFilter() {
    return discardedByFilter;
  }

  void discardedByFilter() {
    this.discardedByFilter = true;
  }

  int prefixLength() {
    return prefixLength;
  }

  void prefixLength(int bytes) {
    this.prefixLength = bytes;
  }

  boolean chunked() {
    return chunked;
  }

  void chunked(boolean on) {
    this.chunked = on;
  }
}
