package org.postern.queue;

import io.vertx.core.buffer.Buffer;
import org.postern.spool.DurableFile;
import org.postern.spool.Envelope;
import org.postern.spool.MessageIds;
import org.postern.spool.Spool;

import java.io.IOException;
import java.time.Instant;
import java.util.List;

/**
 * Puts a delivery status notification on the spool as a new message from {@code <>} to the
 * original sender, durably (content fsynced, then the envelope committed as {@code SpoolWriter}
 * does), so the caller may mark the failed recipients done only afterwards. Blocking. Used by the
 * queue and by {@code postern -Mg}, which both log the new message with {@link #arrivalLogLine}.
 */
public final class BounceSpooler {
  private static final int MAX_HEADER_SECTION = 1024 * 1024;
  private BounceSpooler() {
  }

  /** The start of a message, enough for its header section (a larger header section is cut). */
  private static Buffer head(Spool spool, String id) throws IOException {
    try (java.io.InputStream in = java.nio.file.Files.newInputStream(spool.dataFile(id))) {
      return Buffer.buffer(in.readNBytes(MAX_HEADER_SECTION));
    }
  }

  /**
   * Exim's main-log arrival line of a report: {@code <report id> <= <> R=<original id> U=postern
   * P=local S=<size>}, so that the report can be traced back to the message it is about.
   */
  public static String arrivalLogLine(Envelope report, String originalId) {
    return report.id() + " <= <> R=" + originalId + " U=postern P=local S=" + report.size();
  }

  /** Spools the report and returns the new message's envelope. */
  public static Envelope spool(Spool spool, Envelope original, List<BounceRequest.FailedRecipient> failed,
                               String hostname, Instant now) throws IOException {
    String id = MessageIds.next();
    Buffer headers = BounceMessage.headerSection(head(spool, original.id()));
    return write(spool, original, id, BounceMessage.build(returning(spool, original,
        BounceRequest.failure(original, failed, headers, hostname, id, now))), now);
  }

  /** Spools a success report (RFC 3461 {@code NOTIFY=SUCCESS}) for recipients delivered or relayed without DSN. */
  static Envelope spoolSuccess(Spool spool, Envelope original, List<BounceRequest.FailedRecipient> succeeded,
                               String hostname, Instant now) throws IOException {
    String id = MessageIds.next();
    Buffer headers = BounceMessage.headerSection(head(spool, original.id()));
    return write(spool, original, id, BounceMessage.build(returning(spool, original,
        BounceRequest.success(original, succeeded, headers, hostname, id, now))), now);
  }

  /**
   * RFC 3461 4.3 {@code RET=FULL}: the whole message goes back when it is within Exim's
   * {@code bounce_return_size_limit}; a larger one is not read, and only its headers go back.
   */
  private static BounceRequest returning(Spool spool, Envelope original, BounceRequest request) throws IOException {
    if (!"FULL".equals(original.dsnRet())) {
      return request;
    }
    java.nio.file.Path data = spool.dataFile(original.id());
    long limit = BounceRequest.DEFAULT_RETURN_SIZE_LIMIT;
    Buffer whole = java.nio.file.Files.size(data) <= limit ? Buffer.buffer(java.nio.file.Files.readAllBytes(data)) : null;
    return request.returningMessage(whole, limit);
  }

  /** Spools a delay warning (RFC 3464 {@code Action: delayed}) for the recipients still waiting. */
  static Envelope spoolDelayWarning(Spool spool, Envelope original, List<BounceRequest.FailedRecipient> waiting,
                                    String hostname, Instant now, java.time.Duration delay) throws IOException {
    String id = MessageIds.next();
    Buffer headers = BounceMessage.headerSection(head(spool, original.id()));
    return write(spool, original, id, BounceMessage.build(BounceRequest.delayWarning(original, waiting, headers,
        hostname, id, now, delay)), now);
  }

  private static Envelope write(Spool spool, Envelope original, String id, Buffer report, Instant now)
      throws IOException {
    DurableFile.write(spool.dataFile(id), report.getBytes(), true);
    // A report about an SMTPUTF8 message is itself one (RFC 6533 6): its sender's address may be UTF-8.
    Envelope bounce = new Envelope(id, "", List.of(Envelope.Recipient.pending(original.sender())), now.toEpochMilli(),
        "", 0, null, "local", null, 0, null, "7BIT", report.length(), false, 0, null, null, original.smtpUtf8(), false);
    spool.writeEnvelope(bounce);
    return bounce;
  }
}
