package org.postern.delivery.smtp;

import org.postern.bus.DeliveryStatus;
import org.postern.net.InternationalDomain;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one transaction may send to this next hop: SMTPUTF8 (RFC 6531 3.7.5: a UTF-8 address goes
 * only to a server offering SMTPUTF8, never mangled; a domain alone is sent as A-labels) and
 * REQUIRETLS (RFC 8689 4.2.1: verified TLS with the host's name, and REQUIRETLS offered).
 *
 * @param sender    the reverse-path as sent
 * @param smtpUtf8  {@code SMTPUTF8} goes on MAIL
 * @param wire      each recipient that may be sent, to its forward-path as sent, in order
 * @param refused   permanent failures for the others
 */
record NextHopRequirements(String sender, boolean smtpUtf8, Map<String, String> wire, List<RecipientResult> refused) {

  static NextHopRequirements of(OutboundMessage message, List<String> recipients, EhloCapabilities capabilities,
                                TlsSummary tls) {
    if (message.requireTls()) {
      String missing = tls == null ? "the next hop did not use TLS"
          : !tls.nameMatched() ? "the next hop's certificate did not verify with its name (" + tls.verdict() + ")"
          : !capabilities.has("REQUIRETLS") ? "the next hop does not offer REQUIRETLS" : null;
      if (missing != null) {
        return allRefused(recipients, "5.7.10", "REQUIRETLS: " + missing + "; not sent (RFC 8689)");
      }
    }
    boolean utf8Hop = capabilities.has("SMTPUTF8");
    Map<String, String> wire = new LinkedHashMap<>();
    List<RecipientResult> refused = new ArrayList<>();
    if (utf8Hop) {
      recipients.forEach(r -> wire.put(r, r));
      boolean needed = message.smtpUtf8() || !isAscii(message.sender()) || recipients.stream().anyMatch(r -> !isAscii(r));
      return new NextHopRequirements(message.sender(), needed, wire, refused);
    }
    String sender = asciiForm(message.sender());
    if (sender == null) {
      return allRefused(recipients, "5.6.7", "the sender's address is UTF-8 and the next hop does not offer SMTPUTF8");
    }
    for (String r : recipients) {
      String ascii = asciiForm(r);
      if (ascii == null) {
        refused.add(utf8Refusal(r, "the address is UTF-8 and the next hop does not offer SMTPUTF8"));
      } else {
        wire.put(r, ascii);
      }
    }
    return new NextHopRequirements(sender, false, wire, refused);
  }

  /** The address with an IDN domain in A-labels, or null when the local part is not ASCII. */
  private static String asciiForm(String address) {
    if (isAscii(address)) {
      return address;
    }
    int at = address.lastIndexOf('@');
    String local = at < 0 ? address : address.substring(0, at);
    if (!isAscii(local)) {
      return null;
    }
    String domain = InternationalDomain.toAscii(address.substring(at + 1));
    return domain == null ? null : local + "@" + domain;
  }

  private static NextHopRequirements allRefused(List<String> recipients, String enhanced, String why) {
    return new NextHopRequirements("", false, Map.of(),
        recipients.stream().map(r -> new RecipientResult(r, DeliveryStatus.FAILED, 550, enhanced, why)).toList());
  }

  private static RecipientResult utf8Refusal(String recipient, String why) {
    return new RecipientResult(recipient, DeliveryStatus.FAILED, 553, "5.6.7", why);
  }

  private static boolean isAscii(String s) {
    return s.chars().allMatch(c -> c < 0x80);
  }
}
