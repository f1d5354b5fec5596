package org.postern.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * A transport's answer to a {@link DeliveryRequest}: one result per recipient, the same shape for
 * every transport (a local mailbox answers as an SMTP server does, with a code, an enhanced code and
 * a text), and the hosts that could not be used. JSON form in {@code docs/plugins.md}.
 *
 * @param recipients   one per requested recipient, in request order
 * @param hostProblems connection-level problems (refused, timed out, lost), in the order met; empty
 *                     for a local transport
 */
public record DeliveryResult(List<Recipient> recipients, List<HostProblem> hostProblems) implements BusRecord {
  public DeliveryResult {
    recipients = List.copyOf(recipients);
    hostProblems = List.copyOf(hostProblems);
  }

  /**
   * What happened to one recipient.
   *
   * @param address       as requested (an address, or a mailbox name for a local transport)
   * @param code          the reply code (250, 451, 550, ...), or 0 when no reply was had (timeout, lost connection)
   * @param enhanced      the enhanced status code (RFC 3463), or null
   * @param text          the explanation for the main log and the bounce, never containing credentials
   * @param host          the host that gave the result, or null (a local transport, or no host answered)
   * @param tls           the TLS fields of the {@code =>} line: {@code X=... CV=... DN=...} of the connection,
 *                      then {@code TLS-Required=No} when the message went below the transport's TLS policy
 *                      because it asked to (RFC 8689 5); null when in clear (and within policy) or local
   * @param authenticator the client authenticator used ({@code A=}), or null
   * @param chunking      the message went with BDAT (RFC 3030 CHUNKING; Exim's {@code K})
   * @param dsnPassedOn   delivered to a next hop that offers DSN (RFC 3461), which now reports to the
   *                      sender; false for a local delivery or a next hop without DSN
   */
  public record Recipient(String address, DeliveryStatus status, int code, String enhanced, String text,
                          RemoteHost host, String tls, String authenticator, boolean chunking,
                          boolean dsnPassedOn) {
    /** A result of a message sent with DATA, or of no transfer at all. */
    public Recipient(String address, DeliveryStatus status, int code, String enhanced, String text,
                     RemoteHost host, String tls, String authenticator) {
      this(address, status, code, enhanced, text, host, tls, authenticator, false);
    }

    /** A result with no DSN passed on. */
    public Recipient(String address, DeliveryStatus status, int code, String enhanced, String text,
                     RemoteHost host, String tls, String authenticator, boolean chunking) {
      this(address, status, code, enhanced, text, host, tls, authenticator, chunking, false);
    }

    /** A local transport's result: no host, no TLS, no authenticator. */
    public static Recipient local(String address, DeliveryStatus status, int code, String enhanced, String text) {
      return new Recipient(address, status, code, enhanced, text, null, null, null);
    }

    JsonObject toJson() {
      JsonObject j = new JsonObject().put("address", address).put("status", status.wire()).put("code", code)
          .put("enhanced", enhanced).put("text", text);
      if (host != null) {
        j.put("host", host.toJson());
      }
      if (tls != null) {
        j.put("tls", tls);
      }
      if (authenticator != null) {
        j.put("authenticator", authenticator);
      }
      if (chunking) {
        j.put("chunking", true);
      }
      if (dsnPassedOn) {
        j.put("dsn_passed_on", true);
      }
      return j;
    }

    static Recipient fromJson(JsonObject j) {
      JsonObject host = j.getJsonObject("host");
      return new Recipient(j.getString("address"), DeliveryStatus.fromWire(j.getString("status")),
          j.getInteger("code", 0), j.getString("enhanced"), j.getString("text", ""),
          host == null ? null : RemoteHost.fromJson(host), j.getString("tls"), j.getString("authenticator"),
          j.getBoolean("chunking", false), j.getBoolean("dsn_passed_on", false));
    }
  }

  /** A host that could not be used, and why (Exim's wording: "Connection refused", ...). */
  public record HostProblem(RemoteHost host, String reason) {
    JsonObject toJson() {
      return host.toJson().put("reason", reason);
    }

    static HostProblem fromJson(JsonObject j) {
      return new HostProblem(RemoteHost.fromJson(j), j.getString("reason", ""));
    }
  }

  @Override
  public JsonObject toJson() {
    JsonArray results = new JsonArray();
    recipients.forEach(r -> results.add(r.toJson()));
    JsonArray problems = new JsonArray();
    hostProblems.forEach(p -> problems.add(p.toJson()));
    return new JsonObject().put("results", results).put("host_problems", problems);
  }

  public static DeliveryResult fromJson(JsonObject j) {
    List<Recipient> recipients = new ArrayList<>();
    JsonArray results = j.getJsonArray("results", new JsonArray());
    for (int i = 0; i < results.size(); i++) {
      recipients.add(Recipient.fromJson(results.getJsonObject(i)));
    }
    List<HostProblem> problems = new ArrayList<>();
    JsonArray p = j.getJsonArray("host_problems", new JsonArray());
    for (int i = 0; i < p.size(); i++) {
      problems.add(HostProblem.fromJson(p.getJsonObject(i)));
    }
    return new DeliveryResult(recipients, problems);
  }
}
