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
 * @param dsnRet         RFC 3461 {@code RET=}: {@code FULL}, {@code HDRS}, or null when not given
 * @param dsnEnvid       RFC 3461 {@code ENVID=}, xtext-decoded, or null when not given
 * @param smtpUtf8       the client gave {@code SMTPUTF8} on MAIL (RFC 6531): addresses and header
 *                       fields may hold UTF-8, and a next hop must offer SMTPUTF8 to take it
 * @param requireTls     the client gave {@code REQUIRETLS} on MAIL (RFC 8689): every relay hop must
 *                       use verified TLS and offer REQUIRETLS
 * @param tlsRequiredNo  the header section carried {@code TLS-Required: No} (RFC 8689 5) and the
 *                       message did not come with REQUIRETLS (which wins, 4.1): the sender asks the
 *                       transport's TLS policy to be ignored. Found once at receipt, so delivery
 *                       never re-reads the {@code -D} file for it
 */
public record Envelope(String id, String sender, List<Recipient> recipients, long receivedAt, String hostAddress,
                       int hostPort, String heloName, String protocol, String interfaceAddress, int interfacePort,
                       String authenticatedId, String bodyType, long size, boolean frozen, int warningsSent,
                       String dsnRet, String dsnEnvid, boolean smtpUtf8, boolean requireTls,
                       boolean tlsRequiredNo) {

  /**
   * One envelope recipient and how far its delivery went.
   *
   * @param dsnNotify RFC 3461 {@code NOTIFY=} as given, upper-cased ({@code NEVER}, {@code SUCCESS,FAILURE}, ...),
   *                  or null when not given (failures and delays are reported)
   * @param dsnOrcpt  RFC 3461 {@code ORCPT=}, xtext-decoded ({@code rfc822;bob@example.net}), or null
   */
  public record Recipient(String address, String localPart, String domain, State state, String dsnNotify,
                          String dsnOrcpt) {
    /** Delivery state of one recipient. */
    public enum State { PENDING, DELIVERED, FAILED }

    /** A recipient without DSN parameters. */
    public Recipient(String address, String localPart, String domain, State state) {
      this(address, localPart, domain, state, null, null);
    }

    /**
     * RFC 3461 4.1: whether the sender wants to hear of this event ({@code SUCCESS}, {@code FAILURE},
     * {@code DELAY}); without NOTIFY, failures and delays are reported, successes not.
     */
    public boolean notifies(String event) {
      if (dsnNotify == null) {
        return !event.equals("SUCCESS");
      }
      return java.util.Arrays.asList(dsnNotify.split(",")).contains(event);
    }

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
      return new Recipient(address, localPart, domain, s, dsnNotify, dsnOrcpt);
    }

    JsonObject toJson() {
      JsonObject j = new JsonObject().put("address", address).put("local_part", localPart).put("domain", domain)
          .put("state", state.name().toLowerCase());
      if (dsnNotify != null) {
        j.put("dsn_notify", dsnNotify);
      }
      if (dsnOrcpt != null) {
        j.put("dsn_orcpt", dsnOrcpt);
      }
      return j;
    }

    static Recipient fromJson(JsonObject j) {
      return new Recipient(j.getString("address"), j.getString("local_part"), j.getString("domain"),
          State.valueOf(j.getString("state", "pending").toUpperCase()), j.getString("dsn_notify"),
          j.getString("dsn_orcpt"));
    }
  }

  public Envelope {
    recipients = List.copyOf(recipients);
  }

  /** A message as it arrives: no delay warning sent yet. */
  public Envelope(String id, String sender, List<Recipient> recipients, long receivedAt, String hostAddress,
                  int hostPort, String heloName, String protocol, String interfaceAddress, int interfacePort,
                  String authenticatedId, String bodyType, long size, boolean frozen) {
    this(id, sender, recipients, receivedAt, hostAddress, hostPort, heloName, protocol, interfaceAddress,
        interfacePort, authenticatedId, bodyType, size, frozen, 0);
  }

  /** Before DSN: no {@code RET=}, no {@code ENVID=}. */
  public Envelope(String id, String sender, List<Recipient> recipients, long receivedAt, String hostAddress,
                  int hostPort, String heloName, String protocol, String interfaceAddress, int interfacePort,
                  String authenticatedId, String bodyType, long size, boolean frozen, int warningsSent) {
    this(id, sender, recipients, receivedAt, hostAddress, hostPort, heloName, protocol, interfaceAddress,
        interfacePort, authenticatedId, bodyType, size, frozen, warningsSent, null, null);
  }

  /** Before SMTPUTF8 and REQUIRETLS: neither given. */
  public Envelope(String id, String sender, List<Recipient> recipients, long receivedAt, String hostAddress,
                  int hostPort, String heloName, String protocol, String interfaceAddress, int interfacePort,
                  String authenticatedId, String bodyType, long size, boolean frozen, int warningsSent,
                  String dsnRet, String dsnEnvid) {
    this(id, sender, recipients, receivedAt, hostAddress, hostPort, heloName, protocol, interfaceAddress,
        interfacePort, authenticatedId, bodyType, size, frozen, warningsSent, dsnRet, dsnEnvid, false, false);
  }

  /** Before {@code TLS-Required: No} was looked for: the header asked for nothing. */
  public Envelope(String id, String sender, List<Recipient> recipients, long receivedAt, String hostAddress,
                  int hostPort, String heloName, String protocol, String interfaceAddress, int interfacePort,
                  String authenticatedId, String bodyType, long size, boolean frozen, int warningsSent,
                  String dsnRet, String dsnEnvid, boolean smtpUtf8, boolean requireTls) {
    this(id, sender, recipients, receivedAt, hostAddress, hostPort, heloName, protocol, interfaceAddress,
        interfacePort, authenticatedId, bodyType, size, frozen, warningsSent, dsnRet, dsnEnvid, smtpUtf8, requireTls,
        false);
  }

  /** The same message with RFC 3461's {@code RET=} and {@code ENVID=} (either may be null). */
  public Envelope withDsn(String ret, String envid) {
    return new Envelope(id, sender, recipients, receivedAt, hostAddress, hostPort, heloName, protocol, interfaceAddress,
        interfacePort, authenticatedId, bodyType, size, frozen, warningsSent, ret, envid, smtpUtf8,
        requireTls, tlsRequiredNo);
  }

  public Envelope withRecipients(List<Recipient> r) {
    return new Envelope(id, sender, r, receivedAt, hostAddress, hostPort, heloName, protocol, interfaceAddress,
        interfacePort, authenticatedId, bodyType, size, frozen, warningsSent, dsnRet, dsnEnvid, smtpUtf8,
        requireTls, tlsRequiredNo);
  }

  public Envelope withFrozen(boolean f) {
    return new Envelope(id, sender, recipients, receivedAt, hostAddress, hostPort, heloName, protocol, interfaceAddress,
        interfacePort, authenticatedId, bodyType, size, f, warningsSent, dsnRet, dsnEnvid, smtpUtf8, requireTls, tlsRequiredNo);
  }

  /** Exim's {@code delay_warning}: how many "still not delivered" warnings the sender has had. */
  public Envelope withWarningsSent(int n) {
    return new Envelope(id, sender, recipients, receivedAt, hostAddress, hostPort, heloName, protocol, interfaceAddress,
        interfacePort, authenticatedId, bodyType, size, frozen, n, dsnRet, dsnEnvid, smtpUtf8, requireTls, tlsRequiredNo);
  }

  public JsonObject toJson() {
    JsonArray rcpts = new JsonArray();
    recipients.forEach(r -> rcpts.add(r.toJson()));
    JsonObject j = new JsonObject().put("id", id).put("sender", sender).put("recipients", rcpts)
        .put("received_at", receivedAt).put("host_address", hostAddress).put("host_port", hostPort)
        .put("helo_name", heloName).put("protocol", protocol).put("interface_address", interfaceAddress)
        .put("interface_port", interfacePort).put("authenticated_id", authenticatedId)
        .put("body_type", bodyType).put("size", size).put("frozen", frozen).put("warnings_sent", warningsSent);
    if (dsnRet != null) {
      j.put("dsn_ret", dsnRet);
    }
    if (dsnEnvid != null) {
      j.put("dsn_envid", dsnEnvid);
    }
    if (smtpUtf8) {
      j.put("smtputf8", true);
    }
    if (requireTls) {
      j.put("requiretls", true);
    }
    if (tlsRequiredNo) {
      j.put("tls_required_no", true);
    }
    return j;
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
        j.getBoolean("frozen", false), j.getInteger("warnings_sent", 0), j.getString("dsn_ret"),
        j.getString("dsn_envid"), j.getBoolean("smtputf8", false), j.getBoolean("requiretls", false),
        j.getBoolean("tls_required_no", false));
  }
}
