package org.postern.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code postern.deliver.<transport>}: deliver one message to these recipients, answered by a
 * {@link DeliveryResult} with one entry per recipient. The same request for every transport: a
 * local one ({@code maildir}) reads the recipients as mailbox names and has no hosts; a remote one
 * ({@code smtp}) reads them as envelope addresses and tries the hosts in order. The built-in
 * transports get the record itself ({@link BusCodecs}); its JSON form is in {@code docs/plugins.md}.
 *
 * @param id         the spool id
 * @param transport  the transport's name in the configuration ({@code remote_smtp}, {@code maildir})
 * @param dataFile   the spool {@code -D} file: the whole message, CRLF line ends, not dot-stuffed
 * @param sender     envelope sender, "" for the null sender {@code <>}
 * @param size       message size in bytes
 * @param eightBit   the body is 8-bit ({@code BODY=8BITMIME})
 * @param receivedAt epoch milliseconds of the message's arrival
 * @param recovering a delivery cut short by a crash may be repeated: look for an earlier copy
 * @param recipients distinct, in envelope order
 * @param hosts      for a remote transport, in the order to try; empty for a local one
 * @param dsn        the RFC 3461 parameters to pass on to a next hop that offers DSN
 * @param smtpUtf8   the message came with SMTPUTF8 (RFC 6531): a next hop must offer it to take a
 *                   UTF-8 address
 * @param requireTls the message came with REQUIRETLS (RFC 8689): verified TLS and REQUIRETLS at the
 *                   next hop, or a permanent 5.7.10
 * @param tlsRequiredNo the message carries {@code TLS-Required: No} (RFC 8689 5) and not REQUIRETLS: the
 *                   sender asks that the transport's TLS policy ({@code hosts_require_tls}, certificate
 *                   verification) not stop the delivery
 */
public record DeliveryRequest(String id, String transport, String dataFile, String sender, long size, boolean eightBit,
                              long receivedAt, boolean recovering, List<String> recipients, List<RemoteHost> hosts,
                              DeliveryDsn dsn, boolean smtpUtf8, boolean requireTls, boolean tlsRequiredNo)
    implements BusRecord {
  public DeliveryRequest {
    recipients = List.copyOf(recipients);
    hosts = List.copyOf(hosts);
    dsn = dsn == null ? DeliveryDsn.NONE : dsn;
  }

  /** A request without DSN parameters. */
  public DeliveryRequest(String id, String transport, String dataFile, String sender, long size, boolean eightBit,
                         long receivedAt, boolean recovering, List<String> recipients, List<RemoteHost> hosts) {
    this(id, transport, dataFile, sender, size, eightBit, receivedAt, recovering, recipients, hosts, DeliveryDsn.NONE);
  }

  /** A request for a message without SMTPUTF8 or REQUIRETLS. */
  public DeliveryRequest(String id, String transport, String dataFile, String sender, long size, boolean eightBit,
                         long receivedAt, boolean recovering, List<String> recipients, List<RemoteHost> hosts,
                         DeliveryDsn dsn) {
    this(id, transport, dataFile, sender, size, eightBit, receivedAt, recovering, recipients, hosts, dsn, false, false);
  }

  /** A request for a message without {@code TLS-Required: No}. */
  public DeliveryRequest(String id, String transport, String dataFile, String sender, long size, boolean eightBit,
                         long receivedAt, boolean recovering, List<String> recipients, List<RemoteHost> hosts,
                         DeliveryDsn dsn, boolean smtpUtf8, boolean requireTls) {
    this(id, transport, dataFile, sender, size, eightBit, receivedAt, recovering, recipients, hosts, dsn, smtpUtf8,
        requireTls, false);
  }

  @Override
  public JsonObject toJson() {
    JsonArray h = new JsonArray();
    hosts.forEach(x -> h.add(x.toJson()));
    JsonObject j = new JsonObject().put("id", id).put("transport", transport).put("data_file", dataFile)
        .put("sender", sender).put("size", size).put("eight_bit", eightBit).put("received_at", receivedAt)
        .put("recovering", recovering).put("recipients", new JsonArray(recipients)).put("hosts", h);
    if (!dsn.isEmpty()) {
      j.put("dsn", dsn.toJson());
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

  public static DeliveryRequest fromJson(JsonObject j) {
    List<RemoteHost> hosts = new ArrayList<>();
    JsonArray h = j.getJsonArray("hosts", new JsonArray());
    for (int i = 0; i < h.size(); i++) {
      hosts.add(RemoteHost.fromJson(h.getJsonObject(i)));
    }
    return new DeliveryRequest(j.getString("id"), j.getString("transport"), j.getString("data_file"),
        j.getString("sender", ""), j.getLong("size", 0L), j.getBoolean("eight_bit", false),
        j.getLong("received_at", 0L), j.getBoolean("recovering", false),
        j.getJsonArray("recipients", new JsonArray()).stream().map(String::valueOf).toList(), hosts,
        DeliveryDsn.fromJson(j.getJsonObject("dsn")), j.getBoolean("smtputf8", false),
        j.getBoolean("requiretls", false), j.getBoolean("tls_required_no", false));
  }
}
