package org.postern.tls;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Turns {@code tls_require_ciphers} into JSSE suite names. Exim admins write OpenSSL names
 * ({@code ECDHE-RSA-AES256-GCM-SHA384}); JSSE names ({@code TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384})
 * are accepted as they are. OpenSSL's keyword expressions ({@code HIGH:!aNULL}) have no JSSE
 * equivalent and are refused with a clear message rather than guessed at.
 */
public final class CipherNames {
  private CipherNames() {
  }

  /**
   * @param spec      colon, comma or space separated suite names
   * @param supported the suites this JDK supports
   * @throws IllegalArgumentException naming the first suite that cannot be used
   */
  public static List<String> toJsse(String spec, Set<String> supported) {
    List<String> out = new ArrayList<>();
    for (String item : spec.split("[:,\\s]+")) {
      if (item.isEmpty()) {
        continue;
      }
      String jsse = item.startsWith("TLS_") || item.startsWith("SSL_") ? item : fromOpenSsl(item);
      if (jsse == null) {
        throw new IllegalArgumentException("\"" + item + "\" is not a cipher suite name (OpenSSL keywords such as"
            + " HIGH or !aNULL are not supported: list the suites)");
      }
      if (!supported.contains(jsse)) {
        throw new IllegalArgumentException("cipher suite \"" + item + "\" (" + jsse + ") is not supported by this JDK");
      }
      if (!out.contains(jsse)) {
        out.add(jsse);
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("no cipher suite listed");
    }
    return List.copyOf(out);
  }

  /** {@code ECDHE-RSA-AES128-GCM-SHA256} to {@code TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, or null. */
  static String fromOpenSsl(String name) {
    String n = name.toUpperCase(Locale.ROOT);
    String kx;
    String rest;
    if (n.startsWith("ECDHE-RSA-")) {
      kx = "ECDHE_RSA";
      rest = n.substring(10);
    } else if (n.startsWith("ECDHE-ECDSA-")) {
      kx = "ECDHE_ECDSA";
      rest = n.substring(12);
    } else if (n.startsWith("DHE-RSA-") || n.startsWith("EDH-RSA-")) {
      kx = "DHE_RSA";
      rest = n.substring(8);
    } else if (n.matches("AES(128|256)-.*")) {
      kx = "RSA";
      rest = n;
    } else {
      return null;
    }
    if (rest.equals("CHACHA20-POLY1305")) {
      return "TLS_" + kx + "_WITH_CHACHA20_POLY1305_SHA256";
    }
    java.util.regex.Matcher m = java.util.regex.Pattern
        .compile("AES(128|256)(?:-(GCM|CCM))?-(SHA|SHA256|SHA384)").matcher(rest);
    if (!m.matches()) {
      return null;
    }
    String mode = m.group(2) == null ? "CBC" : m.group(2);
    return "TLS_" + kx + "_WITH_AES_" + m.group(1) + "_" + mode + "_" + m.group(3);
  }
}
