package org.postern.queue;

import io.vertx.core.buffer.Buffer;
import org.postern.spool.Envelope;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Everything a delivery status notification is made from.
 *
 * @param kind             a failure report (Exim's bounce), a delay warning or a success report (RFC 3461 NOTIFY=SUCCESS)
 * @param original         the envelope of the message being reported on
 * @param recipients       the recipients it is about, with their diagnostics
 * @param originalHeaders  the original header section (see {@link BounceMessage#headerSection})
 * @param originalMessage  the whole original message, or null when only headers are at hand
 * @param returnMessage    Exim's {@code bounce_return_message}: attach the whole message when small enough
 * @param returnSizeLimit  Exim's {@code bounce_return_size_limit}: above it only the headers go back
 * @param primaryHostname  this MTA's name, for {@code From:}, {@code Message-ID:} and {@code Reporting-MTA:}
 * @param messageId        the id of the new message
 * @param date             its date
 * @param delay            for a delay warning, how long the message has been queued; else null
 */
public record BounceRequest(Kind kind, Envelope original, List<FailedRecipient> recipients, Buffer originalHeaders,
                            Buffer originalMessage, boolean returnMessage, long returnSizeLimit,
                            String primaryHostname, String messageId, Instant date, Duration delay) {

  /** Exim's default {@code bounce_return_size_limit}. */
  public static final long DEFAULT_RETURN_SIZE_LIMIT = 100 * 1024;

  /** What is being reported. */
  public enum Kind {
    /** Permanent failure: {@code Action: failed}, status 5.x.x. */
    FAILED,
    /** Delay warning: {@code Action: delayed}, status 4.x.x. */
    DELAYED,
    /**
     * Success (RFC 3461 {@code NOTIFY=SUCCESS}): {@code Action: delivered} for a local delivery,
     * {@code Action: relayed} for one handed to a next hop that does not offer DSN; status 2.0.0.
     */
    SUCCEEDED
  }

  public BounceRequest {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(original, "original");
    Objects.requireNonNull(originalHeaders, "originalHeaders");
    Objects.requireNonNull(primaryHostname, "primaryHostname");
    Objects.requireNonNull(messageId, "messageId");
    Objects.requireNonNull(date, "date");
    recipients = List.copyOf(recipients);
    if (original.sender().isEmpty()) {
      throw new IllegalArgumentException("no report is ever sent to the null sender <>");
    }
    if (recipients.isEmpty()) {
      throw new IllegalArgumentException("a report needs at least one recipient");
    }
    if (kind == Kind.DELAYED && delay == null) {
      throw new IllegalArgumentException("a delay warning needs the delay");
    }
  }

  /** A failure report returning headers only (Exim's default, {@code bounce_return_message} aside). */
  public static BounceRequest failure(Envelope original, List<FailedRecipient> recipients, Buffer originalHeaders,
                                      String primaryHostname, String messageId, Instant date) {
    return new BounceRequest(Kind.FAILED, original, recipients, originalHeaders, null, false,
        DEFAULT_RETURN_SIZE_LIMIT, primaryHostname, messageId, date, null);
  }

  /** A delay warning after {@code delay} on the queue. */
  public static BounceRequest delayWarning(Envelope original, List<FailedRecipient> recipients,
                                           Buffer originalHeaders, String primaryHostname, String messageId,
                                           Instant date, Duration delay) {
    return new BounceRequest(Kind.DELAYED, original, recipients, originalHeaders, null, false,
        DEFAULT_RETURN_SIZE_LIMIT, primaryHostname, messageId, date, delay);
  }

  /** A success report for recipients delivered here or relayed to a next hop without DSN. */
  public static BounceRequest success(Envelope original, List<FailedRecipient> recipients, Buffer originalHeaders,
                                      String primaryHostname, String messageId, Instant date) {
    return new BounceRequest(Kind.SUCCEEDED, original, recipients, originalHeaders, null, false,
        DEFAULT_RETURN_SIZE_LIMIT, primaryHostname, messageId, date, null);
  }

  /**
   * The same request, attaching the whole message when it is at most {@code sizeLimit} bytes;
   * {@code wholeMessage} null means it was larger, not read, and only the headers go back.
   */
  public BounceRequest returningMessage(Buffer wholeMessage, long sizeLimit) {
    return new BounceRequest(kind, original, recipients, originalHeaders, wholeMessage, true, sizeLimit,
        primaryHostname, messageId, date, delay);
  }

  /**
   * One recipient being reported on, and why it failed (is delayed, was delivered).
   *
   * @param remoteHost     name of the remote MTA that answered, or null for a local reason (or delivery)
   * @param remoteAddress  its IP address, or null
   * @param afterCommand   the SMTP command the reply answered, e.g. {@code RCPT TO:<bob@example.net>}, or null
   * @param replyCode      the SMTP reply code, 0 for a local reason
   * @param enhancedStatus the RFC 3463 status, e.g. {@code 5.1.1}, or null to derive one
   * @param text           the remote reply text or the local reason
   * @param lastAttempt    time of the last delivery attempt, or null
   */
  public record FailedRecipient(String address, String remoteHost, String remoteAddress, String afterCommand,
                                int replyCode, String enhancedStatus, String text, Instant lastAttempt) {

    /** A recipient refused or deferred by a remote server. */
    public static FailedRecipient remote(String address, String remoteHost, String remoteAddress,
                                         String afterCommand, int replyCode, String enhancedStatus, String text,
                                         Instant lastAttempt) {
      return new FailedRecipient(address, remoteHost, remoteAddress, afterCommand, replyCode, enhancedStatus, text,
          lastAttempt);
    }

    /** The reason of an {@link #expanded} report. */
    public static final String EXPANDED = "alias expanded";

    /** RFC 3461 6.2.7.3: an alias expanded here to several recipients ({@code Action: expanded}). */
    public static FailedRecipient expanded(String address, Instant when) {
      return local(address, EXPANDED, when);
    }

    /** A recipient that failed here, e.g. {@code Unrouteable address}. */
    public static FailedRecipient local(String address, String reason, Instant lastAttempt) {
      return new FailedRecipient(address, null, null, null, 0, null, reason, lastAttempt);
    }
  }
}
