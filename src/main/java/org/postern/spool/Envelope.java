package org.postern.spool;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Everything about a spooled message except its content: the {@code -H} file. Recipients carry their
 * delivery state so that a restart re-delivers only what was not done.
 *
 * @param sender         envelope sender ("" for the null sender {@code <>})
 * @param receivedAt     epoch milliseconds of the 250 reply
 * @param hostAddress    client IP, "" for local submission ({@code -bs}, {@code -bS})
 * @param protocol       Exim's {@code $received_protocol}: smtp, esmtp, local-esmtp, ...
 * @param smtpUtf8       the client gave {@code SMTPUTF8} on MAIL (RFC 6531): addresses and header
 *                       fields may hold UTF-8, and a next hop must offer SMTPUTF8 to take it
 * @param requireTls     the client gave {@code REQUIRETLS} on MAIL (RFC 8689): every relay hop must
 *                       use verified TLS and offer REQUIRETLS
 */
public record Envelope(String id, String sender, List<Recipient> recipients, long receivedAt, String hostAddress,
                       int hostPort, String heloName, String protocol, String interfaceAddress, int interfacePort,
                       String authenticatedId, String bodyType, long size, boolean frozen, int warningsSent,
                       boolean smtpUtf8, boolean requireTls) {

  /** One envelope recipient and how far its delivery went. */
  public record Recipient(String address, String localPart, String domain, State state) {
    /** Delivery state of one recipient. */
    public enum State { PENDING, DELIVERED, FAILED }

    /**
     * A pending recipient for an address the server made itself (a bounce's sender, an alias's
     * target): local part and domain split at the last {@code @}, the domain lower-cased.
     */
    public static Recipient pending(String address) {
      int at = address.lastIndexOf('@');
      return new Recipient(address, at < 0 ? address : address.substring(0, at),
          at < 0 ? "" : address.substring(at + 1).toLowerCase(Locale.ROOT), State.PENDING);
    }

    public Recipient withState(State s) {
      return new Recipient(address, localPart, domain, s);
    }

    JsonObject toJson() {
      return new JsonObject().put("address", address).put("local_part", localPart).put("domain", domain)
          .put("state", state.name().toLowerCase());
    }

    static Recipient fromJson(JsonObject j) {
      return new Recipient(j.getString("address"), j.getString("local_part"), j.getString("domain"),
          State.valueOf(j.getString("state", "pending").toUpperCase()));
    }
  }

  public Envelope {
    recipients = List.copyOf(recipients);
  }

  /** A message without SMTPUTF8 or REQUIRETLS. */
  public Envelope(String id, String sender, List<Recipient> recipients, long receivedAt, String hostAddress,
                  int hostPort, String heloName, String protocol, String interfaceAddress, int interfacePort,
                  String authenticatedId, String bodyType, long size, boolean frozen, int warningsSent) {
    this(id, sender, recipients, receivedAt, hostAddress, hostPort, heloName, protocol, interfaceAddress,
        interfacePort, authenticatedId, bodyType, size, frozen, warningsSent, false, false);
  }

  /** A message as it arrives: no delay warning sent yet. */
  public Envelope(String id, String sender, List<Recipient> recipients, long receivedAt, String hostAddress,
                  int hostPort, String heloName, String protocol, String interfaceAddress, int interfacePort,
                  String authenticatedId, String bodyType, long size, boolean frozen) {
    this(id, sender, recipients, receivedAt, hostAddress, hostPort, heloName, protocol, interfaceAddress,
        interfacePort, authenticatedId, bodyType, size, frozen, 0);
  }

  public Envelope withRecipients(List<Recipient> r) {
    return new Envelope(id, sender, r, receivedAt, hostAddress, hostPort, heloName, protocol, interfaceAddress,
        interfacePort, authenticatedId, bodyType, size, frozen, warningsSent, smtpUtf8, requireTls);
  }

  public Envelope withFrozen(boolean f) {
    return new Envelope(id, sender, recipients, receivedAt, hostAddress, hostPort, heloName, protocol, interfaceAddress,
        interfacePort, authenticatedId, bodyType, size, f, warningsSent, smtpUtf8, requireTls);
  }

  /** Exim's {@code delay_warning}: how many "still not delivered" warnings the sender has had. */
  public Envelope withWarningsSent(int n) {
    return new Envelope(id, sender, recipients, receivedAt, hostAddress, hostPort, heloName, protocol, interfaceAddress,
        interfacePort, authenticatedId, bodyType, size, frozen, n, smtpUtf8, requireTls);
  }

  public JsonObject toJson() {
    JsonArray rcpts = new JsonArray();
    recipients.forEach(r -> rcpts.add(r.toJson()));
    return new JsonObject().put("id", id).put("sender", sender).put("recipients", rcpts)
        .put("received_at", receivedAt).put("host_address", hostAddress).put("host_port", hostPort)
        .put("helo_name", heloName).put("protocol", protocol).put("interface_address", interfaceAddress)
        .put("interface_port", interfacePort).put("authenticated_id", authenticatedId)
        .put("body_type", bodyType).put("size", size).put("frozen", frozen).put("warnings_sent", warningsSent)
        .put("smtputf8", smtpUtf8).put("requiretls", requireTls);
  }

  public static Envelope fromJson(JsonObject j) {
    List<Recipient> rcpts = new ArrayList<>();
    JsonArray arr = j.getJsonArray("recipients", new JsonArray());
    for (int i = 0; i < arr.size(); i++) {
      rcpts.add(Recipient.fromJson(arr.getJsonObject(i)));
    }
    return new Envelope(j.getString("id"), j.getString("sender", ""), rcpts, j.getLong("received_at", 0L),
        j.getString("host_address", ""), j.getInteger("host_port", 0), j.getString("helo_name"),
        j.getString("protocol", "smtp"), j.getString("interface_address"), j.getInteger("interface_port", 0),
        j.getString("authenticated_id"), j.getString("body_type", "7BIT"), j.getLong("size", 0L),
        j.getBoolean("frozen", false), j.getInteger("warnings_sent", 0),
        j.getBoolean("smtputf8", false), j.getBoolean("requiretls", false));
  }
}
