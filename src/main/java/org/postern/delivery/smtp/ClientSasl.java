package org.postern.delivery.smtp;

import org.postern.config.ClientAuthenticator;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/**
 * The client half of one SASL exchange (PLAIN, LOGIN, CRAM-MD5), from a {@link ClientAuthenticator}.
 * Produces base64 lines only; the connection never logs them.
 */
final class ClientSasl {
  private final ClientAuthenticator authenticator;
  private int nextItem;

  ClientSasl(ClientAuthenticator authenticator) {
    this.authenticator = authenticator;
  }

  /** The {@code AUTH} command, with the initial response where the mechanism has one. */
  String command() {
    return switch (authenticator.publicName()) {
      case "PLAIN" -> {
        // Exim's ^ stands for NUL; list items are joined with NUL too (": user : secret").
        String joined = String.join("\0", authenticator.send()).replace('^', '\0');
        nextItem = authenticator.send().size();
        yield "AUTH PLAIN " + base64(joined);
      }
      case "LOGIN" -> {
        String first = authenticator.send().get(0);
        nextItem = 1;
        yield first.isEmpty() ? "AUTH LOGIN" : "AUTH LOGIN " + base64(first);
      }
      default -> "AUTH " + authenticator.publicName();
    };
  }

  /**
   * The answer to a 334 challenge (its text, base64).
   *
   * @throws IllegalStateException when the mechanism has nothing left to send (the server asked too often)
   */
  String respond(String challenge) {
    if (authenticator.driver().equals("cram_md5")) {
      if (nextItem++ > 0) {
        throw new IllegalStateException("unexpected second CRAM-MD5 challenge");
      }
      byte[] c;
      try {
        c = Base64.getDecoder().decode(challenge.strip());
      } catch (IllegalArgumentException e) {
        throw new IllegalStateException("CRAM-MD5 challenge is not base64");
      }
      return base64(authenticator.user() + " " + hmacMd5(authenticator.secret(), c));
    }
    List<String> items = authenticator.send();
    if (nextItem >= items.size()) {
      throw new IllegalStateException("server asked for more than client_send provides");
    }
    return base64(items.get(nextItem++));
  }

  private static String base64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String hmacMd5(String secret, byte[] challenge) {
    try {
      Mac mac = Mac.getInstance("HmacMD5");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacMD5"));
      return HexFormat.of().formatHex(mac.doFinal(challenge));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacMD5 unavailable", e);
    }
  }
}
