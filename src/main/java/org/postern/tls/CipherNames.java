package org.postern.tls;

import javax.net.ssl.SSLContext;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns {@code tls_require_ciphers} into JSSE suite names. Exim admins write OpenSSL cipher
 * strings: explicit names ({@code ECDHE-RSA-AES256-GCM-SHA384}), JSSE names
 * ({@code TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}), and keyword expressions as in OpenSSL's
 * ciphers(1): {@code HIGH:!aNULL:!MD5}, {@code ECDHE+AESGCM}, with the {@code !} (remove for
 * good), {@code -} (remove), {@code +} (move to the end) operators, {@code A+B} (both) and
 * {@code @STRENGTH}. Keywords are evaluated over the suites this JDK supports, in its order of
 * preference. As with OpenSSL, the expression governs TLS 1.2 and older; the TLS 1.3 suites stay
 * on unless some are named explicitly, and then only those. An unknown keyword, or an expression
 * that selects nothing, is refused.
 */
public final class CipherNames {
  /**
   * The server's default: Mozilla's "intermediate" configuration (v5.7): forward-secret AEAD suites
   * only, no static-RSA key exchange (no forward secrecy) and no CBC (LUCKY13), plus the TLS 1.3
   * suites. Written as keywords, so a JDK without one of the suites still starts.
   */
  public static final String INTERMEDIATE = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+aRSA+AESGCM:DHE+aRSA+CHACHA20";

  private static final Pattern JSSE = Pattern.compile("(?:TLS|SSL)_(.+)_WITH_(.+?)(?:_(SHA|SHA256|SHA384|MD5))?");
  private static final Pattern KEY_BITS = Pattern.compile("_(\\d+)");
  private static final Pattern OPENSSL_AES = Pattern.compile("AES(128|256)(?:-(GCM|CCM))?-(SHA|SHA256|SHA384)");

  private CipherNames() {
  }

  /** As {@link #toJsse(String, Collection)}, over the suites of this JDK. */
  public static List<String> toJsse(String spec) {
    try {
      return toJsse(spec, List.of(SSLContext.getDefault().getSupportedSSLParameters().getCipherSuites()));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no default TLS context", e);
    }
  }

  /**
   * @param spec      an OpenSSL cipher string (colon, comma or space separated)
   * @param supported the suites this JDK supports, in its order of preference (which keywords keep)
   * @throws IllegalArgumentException naming the first element that cannot be used, or when nothing is selected
   */
  public static List<String> toJsse(String spec, Collection<String> supported) {
    List<Suite> all = new ArrayList<>();
    for (String name : supported) {
      Suite s = Suite.of(name);
      if (s != null) {
        all.add(s);
      }
    }
    List<Suite> selected = new ArrayList<>();
    Set<Suite> removedForGood = new LinkedHashSet<>();
    List<String> tls13 = new ArrayList<>();
    boolean any = false;
    for (String element : spec.split("[:,\\s]+")) {
      if (element.isEmpty()) {
        continue;
      }
      any = true;
      if (element.equalsIgnoreCase("@STRENGTH")) {
        selected.sort(Comparator.comparingInt((Suite s) -> s.bits()).reversed());
        continue;
      }
      if (element.startsWith("@")) {
        throw new IllegalArgumentException("\"" + element + "\" has no JSSE equivalent (only @STRENGTH is supported)");
      }
      char op = "!-+".indexOf(element.charAt(0)) >= 0 ? element.charAt(0) : ' ';
      String body = op == ' ' ? element : element.substring(1);
      String explicit = explicitName(body, supported);
      if (explicit != null && Suite.isTls13(explicit)) {
        if (op == ' ' && !tls13.contains(explicit)) {
          tls13.add(explicit);
        } else if (op != ' ') {
          tls13.remove(explicit);
        }
        continue;
      }
      Predicate<Suite> matches = explicit != null ? s -> s.name().equals(explicit) : keywords(body);
      switch (op) {
        case '!' -> {
          selected.removeIf(matches);
          all.stream().filter(matches).forEach(removedForGood::add);
        }
        case '-' -> selected.removeIf(matches);
        case '+' -> {
          List<Suite> moved = selected.stream().filter(matches).toList();
          selected.removeAll(moved);
          selected.addAll(moved);
        }
        default -> all.stream().filter(matches.and(s -> !removedForGood.contains(s) && !selected.contains(s)))
            .forEach(selected::add);
      }
    }
    if (!any) {
      throw new IllegalArgumentException("no cipher suite listed");
    }
    if (selected.isEmpty() && tls13.isEmpty()) {
      throw new IllegalArgumentException("\"" + spec.strip() + "\" selects no cipher suite this JDK supports");
    }
    List<String> out = new ArrayList<>();
    if (tls13.isEmpty()) {
      supported.stream().filter(Suite::isTls13).forEach(out::add);
    } else {
      out.addAll(tls13);
    }
    selected.forEach(s -> out.add(s.name()));
    return List.copyOf(out);
  }

  /** A suite named outright (JSSE or OpenSSL style), or null when {@code body} is a keyword expression. */
  private static String explicitName(String body, Collection<String> supported) {
    boolean jsse = body.startsWith("TLS_") || body.startsWith("SSL_");
    if (!jsse && body.indexOf('-') < 0) {
      return null;
    }
    String name = jsse ? body : fromOpenSsl(body);
    if (name == null) {
      throw new IllegalArgumentException("\"" + body + "\" is not a cipher suite name");
    }
    if (!supported.contains(name)) {
      throw new IllegalArgumentException("cipher suite \"" + body + "\" (" + name + ") is not supported by this JDK");
    }
    return name;
  }

  /** {@code ECDHE+AESGCM}: suites that match every keyword. */
  private static Predicate<Suite> keywords(String body) {
    Predicate<Suite> all = s -> true;
    for (String keyword : body.split("\\+")) {
      all = all.and(keyword(keyword));
    }
    return all;
  }

  /** OpenSSL's keywords (ciphers(1)) that make sense for JSSE suites; TLS 1.3 suites match none. */
  private static Predicate<Suite> keyword(String k) {
    return switch (k) {
      case "ALL" -> s -> !s.enc().equals("NULL");
      case "DEFAULT" -> s -> !s.enc().equals("NULL") && !s.auth().equals("anon");
      case "HIGH" -> s -> s.bits() >= 128 && s.enc().matches("AES.*|CHACHA20.*|CAMELLIA.*|ARIA.*");
      case "MEDIUM" -> s -> s.enc().matches("RC4.*|SEED.*|IDEA.*|3DES.*");
      case "LOW" -> s -> s.enc().matches("DES_CBC") && !s.export();
      case "EXP", "EXPORT" -> Suite::export;
      case "eNULL", "NULL" -> s -> s.enc().equals("NULL");
      case "aNULL" -> s -> s.auth().equals("anon");
      case "kRSA" -> s -> s.kx().equals("RSA");
      case "aRSA" -> s -> s.auth().equals("RSA");
      case "RSA" -> s -> s.kx().equals("RSA") || s.auth().equals("RSA");
      case "kEDH", "kDHE" -> s -> s.kx().equals("DHE");
      case "EDH", "DHE" -> s -> s.kx().equals("DHE") && !s.auth().equals("anon");
      case "ADH" -> s -> s.kx().equals("DHE") && s.auth().equals("anon");
      case "kEECDH", "kECDHE" -> s -> s.kx().equals("ECDHE");
      case "EECDH", "ECDHE" -> s -> s.kx().equals("ECDHE") && !s.auth().equals("anon");
      case "AECDH" -> s -> s.kx().equals("ECDHE") && s.auth().equals("anon");
      case "kECDH" -> s -> s.kx().equals("ECDH");
      case "kDH" -> s -> s.kx().equals("DH");
      case "aECDSA", "ECDSA" -> s -> s.auth().equals("ECDSA");
      case "aDSS", "DSS" -> s -> s.auth().equals("DSS");
      case "PSK", "kPSK" -> s -> s.kx().contains("PSK");
      case "AES" -> s -> s.enc().startsWith("AES");
      case "AES128" -> s -> s.enc().startsWith("AES_128");
      case "AES256" -> s -> s.enc().startsWith("AES_256");
      case "AESGCM" -> s -> s.enc().matches("AES_\\d+_GCM");
      case "AESCCM" -> s -> s.enc().matches("AES_\\d+_CCM.*");
      case "CHACHA20" -> s -> s.enc().startsWith("CHACHA20");
      case "CAMELLIA" -> s -> s.enc().startsWith("CAMELLIA");
      case "ARIA" -> s -> s.enc().startsWith("ARIA");
      case "3DES" -> s -> s.enc().startsWith("3DES");
      case "DES" -> s -> s.enc().matches("DES_CBC|DES40_CBC");
      case "RC4" -> s -> s.enc().startsWith("RC4");
      case "SEED" -> s -> s.enc().startsWith("SEED");
      case "IDEA" -> s -> s.enc().startsWith("IDEA");
      case "MD5" -> s -> s.mac().equals("MD5");
      case "SHA1", "SHA" -> s -> s.mac().equals("SHA");
      case "SHA256" -> s -> s.mac().equals("SHA256");
      case "SHA384" -> s -> s.mac().equals("SHA384");
      case "TLSv1.2" -> s -> !s.mac().equals("SHA") && !s.mac().equals("MD5");
      case "TLSv1", "TLSv1.0", "SSLv3" -> s -> s.mac().equals("SHA") || s.mac().equals("MD5");
      default -> throw new IllegalArgumentException("unknown cipher keyword \"" + k + "\" (OpenSSL keywords such as"
          + " HIGH, ECDHE, AESGCM, !aNULL, or suite names)");
    };
  }

  /**
   * A TLS 1.2-or-older JSSE suite, split as OpenSSL classifies it.
   *
   * @param kx   key exchange: RSA, DHE, ECDHE (ephemeral, anonymous included), DH, ECDH (fixed), PSK...
   * @param auth RSA, DSS, ECDSA, anon, or the fixed-key type
   * @param enc  cipher as JSSE writes it, e.g. AES_128_GCM, CHACHA20_POLY1305, 3DES_EDE_CBC
   * @param mac  SHA, SHA256, SHA384, MD5, or AEAD
   */
  private record Suite(String name, String kx, String auth, String enc, String mac, int bits, boolean export) {
    static boolean isTls13(String name) {
      return name.startsWith("TLS_") && !name.contains("_WITH_") && !name.endsWith("_SCSV");
    }

    static Suite of(String name) {
      Matcher m = JSSE.matcher(name);
      if (!m.matches()) {
        return null;
      }
      String[] kxParts = m.group(1).split("_", 2);
      boolean export = m.group(1).contains("EXPORT") || m.group(2).contains("40");
      String kx = switch (kxParts[0]) {
        case "DH" -> kxParts.length > 1 && kxParts[1].equals("anon") ? "DHE" : "DH";
        case "ECDH" -> kxParts.length > 1 && kxParts[1].equals("anon") ? "ECDHE" : "ECDH";
        default -> kxParts[0];
      };
      String auth = kxParts.length > 1 && !kxParts[1].startsWith("EXPORT") ? kxParts[1] : kxParts[0];
      if (m.group(1).contains("PSK")) {
        kx = m.group(1);
        auth = "PSK";
      }
      String enc = m.group(2);
      String mac = m.group(3) == null || enc.matches(".*(GCM|CCM.*|POLY1305)") ? "AEAD" : m.group(3);
      return new Suite(name, kx, auth, enc, mac, bits(enc), export);
    }

    private static int bits(String enc) {
      Matcher m = KEY_BITS.matcher(enc);
      if (enc.startsWith("CHACHA20")) {
        return 256;
      }
      if (enc.startsWith("3DES")) {
        return 112;
      }
      if (enc.startsWith("DES40")) {
        return 40;
      }
      if (enc.startsWith("DES")) {
        return 56;
      }
      return enc.equals("NULL") ? 0 : m.find() ? Integer.parseInt(m.group(1)) : 128;
    }
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
    Matcher m = OPENSSL_AES.matcher(rest);
    if (!m.matches()) {
      return null;
    }
    String mode = m.group(2) == null ? "CBC" : m.group(2);
    return "TLS_" + kx + "_WITH_AES_" + m.group(1) + "_" + mode + "_" + m.group(3);
  }
}
