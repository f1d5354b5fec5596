package org.postern.plugins.milter;

import io.vertx.core.json.JsonObject;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The Sendmail macros Postern defines for milters at each stage, from the session's variables:
 * Postfix's default {@code milter_*_macros}, as far as OpenDKIM, OpenDMARC and rspamd read them
 * ({@code j}, {@code {daemon_name}}, {@code {auth_authen}}, {@code i}, {@code {tls_version}} ...).
 * A milter that asked for its own list (SETSYMLIST) gets only those of it that Postern knows.
 */
final class MilterMacros {
  private MilterMacros() {
  }

  /** The macros of {@code stage} ({@link MilterCodes}{@code .M_*}) that have a value now. */
  static Map<String, String> of(int stage, JsonObject v) {
    Map<String, String> m = new LinkedHashMap<>();
    switch (stage) {
      case MilterCodes.M_CONNECT -> {
        put(m, "j", v.getString("primary_hostname"));
        put(m, "{daemon_name}", "postern");
        put(m, "v", "Postern");
        put(m, "{daemon_addr}", v.getString("interface_address"));
        put(m, "{daemon_port}", String.valueOf(v.getValue("interface_port", "")));
        String name = v.getString("sender_host_name");
        String addr = v.getString("sender_host_address", "");
        put(m, "_", (name == null ? "unknown" : name) + " [" + addr + "]");
        put(m, "{client_addr}", addr);
        put(m, "{client_port}", String.valueOf(v.getValue("sender_host_port", "")));
        put(m, "{client_name}", name == null ? "unknown" : name);
      }
      case MilterCodes.M_HELO -> {
        put(m, "{tls_version}", v.getString("tls_protocol"));
        put(m, "{cipher}", v.getString("tls_cipher"));
        put(m, "{cipher_bits}", v.getValue("tls_bits") == null ? null : String.valueOf(v.getValue("tls_bits")));
        put(m, "{cert_subject}", v.getString("tls_peerdn"));
      }
      case MilterCodes.M_ENVFROM -> {
        put(m, "{auth_authen}", v.getString("authenticated_id"));
        put(m, "{auth_author}", v.getString("authenticated_sender"));
        String sender = v.getString("sender_address");
        put(m, "{mail_addr}", sender);
        put(m, "{mail_host}", sender == null || sender.indexOf('@') < 0 ? null : sender.substring(sender.lastIndexOf('@') + 1));
      }
      case MilterCodes.M_ENVRCPT -> {
        put(m, "{rcpt_addr}", v.getString("recipient"));
        put(m, "{rcpt_host}", v.getString("domain"));
      }
      case MilterCodes.M_DATA, MilterCodes.M_EOM -> put(m, "i", v.getString("message_id"));
      default -> {
      }
    }
    return m;
  }

  /** The SMFIC_MACRO packet for the command {@code command}, or null when there is nothing to define. */
  static MilterPacket packet(byte command, int stage, JsonObject variables, Set<String> wanted) {
    Map<String, String> m = of(stage, variables);
    if (wanted != null) {
      m.keySet().retainAll(wanted);
    }
    if (m.isEmpty()) {
      return null;
    }
    String[] parts = new String[m.size() * 2];
    int i = 0;
    for (Map.Entry<String, String> e : m.entrySet()) {
      parts[i++] = e.getKey();
      parts[i++] = e.getValue();
    }
    MilterPacket strings = MilterPacket.strings(MilterCodes.MACRO, parts);
    return new MilterPacket(MilterCodes.MACRO, io.vertx.core.buffer.Buffer.buffer().appendByte(command)
        .appendBuffer(strings.data()));
  }

  private static void put(Map<String, String> m, String name, String value) {
    if (value != null && !value.isEmpty()) {
      m.put(name, value);
    }
  }
}
