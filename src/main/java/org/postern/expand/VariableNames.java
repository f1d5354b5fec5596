package org.postern.expand;

import java.util.Set;

/**
 * The {@code $variables} a session offers to expansions and ACLs. Expansions are checked against
 * this list at load time, so a typo such as {@code $auth_id} is a configuration error with file and
 * line, not an empty string at run time.
 */
public final class VariableNames {
  private static final Set<String> KNOWN = Set.of(
      "sender_host_address", "sender_host_port", "sender_host_name", "interface_address", "interface_port",
      "received_port", "received_listener", "received_protocol", "primary_hostname", "sender_helo_name",
      "sender_address", "recipients_count", "local_part", "domain", "recipient", "message_id", "message_size",
      "authenticated_id", "authenticated_sender", "tls_cipher", "tls_peerdn", "tls_sni",
      "tls_certificate_verified", "tls_protocol", "tls_bits", "tls_cipher_suite", "tls_certificate_error",
      "auth1", "auth2", "auth3", "authenticator", "reason", "etrn_argument", "message_headers", "recipients",
      // A connection through a hosts_proxy load balancer (Exim's Proxies chapter).
      "proxy_session", "proxy_local_address", "proxy_local_port", "proxy_external_address", "proxy_external_port",
      // Set by the session for per-connection and per-message state (ratelimit per_conn, per_mail).
      "connection_id", "transaction_number",
      // MAIL's RFC 3461 RET= and ENVID=, as Exim's $dsn_ret and $dsn_envid.
      "dsn_ret", "dsn_envid",
      // Set by a ratelimit condition for the rest of the ACL.
      "sender_rate", "sender_rate_limit", "sender_rate_period",
      // One MIME part, in the MIME ACL.
      "mime_content_type", "mime_charset", "mime_boundary", "mime_filename", "mime_content_disposition",
      "mime_content_transfer_encoding", "mime_content_id", "mime_content_description", "mime_is_multipart",
      "mime_is_rfc822", "mime_part_count", "mime_content_size", "mime_anomaly_level",
      // Set by a dnslists condition that matched.
      "dnslist_domain", "dnslist_value", "dnslist_text", "dnslist_matched");

  private VariableNames() {
  }

  public static boolean isKnown(String name) {
    return KNOWN.contains(name) || name.matches("acl_[cm](\\d+|_[A-Za-z0-9_]+)");
  }
}
