package org.postern.delivery.smtp;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Does a server certificate name the host ({@code tls_verify_cert_hostnames})? RFC 6125 rules:
 * DNS subjectAltNames (a {@code *} allowed as the whole leftmost label), IP-address ones for an
 * address, and the subject CN only when the certificate has no DNS names at all.
 */
final class CertificateNames {
  private CertificateNames() {
  }

  static boolean matches(X509Certificate cert, String host) {
    String wanted = host.toLowerCase(Locale.ROOT);
    if (wanted.endsWith(".")) {
      wanted = wanted.substring(0, wanted.length() - 1);
    }
    List<String> dns = new ArrayList<>();
    try {
      Collection<List<?>> alt = cert.getSubjectAlternativeNames();
      if (alt != null) {
        for (List<?> entry : alt) {
          int type = (Integer) entry.get(0);
          String value = entry.get(1).toString();
          if (type == 2) {
            dns.add(value.toLowerCase(Locale.ROOT));
          } else if (type == 7 && value.equalsIgnoreCase(wanted)) {
            return true;
          }
        }
      }
    } catch (CertificateParsingException e) {
      return false;
    }
    if (dns.isEmpty()) {
      dns.addAll(commonNames(cert));
    }
    for (String name : dns) {
      if (name.equals(wanted) || wildcard(name, wanted)) {
        return true;
      }
    }
    return false;
  }

  private static boolean wildcard(String pattern, String host) {
    if (!pattern.startsWith("*.") || pattern.length() < 4) {
      return false;
    }
    int dot = host.indexOf('.');
    return dot > 0 && host.substring(dot).equals(pattern.substring(1)) && pattern.substring(2).contains(".");
  }

  private static List<String> commonNames(X509Certificate cert) {
    List<String> out = new ArrayList<>();
    try {
      for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          out.add(rdn.getValue().toString().toLowerCase(Locale.ROOT));
        }
      }
    } catch (InvalidNameException e) {
      // An unparsable subject names nothing.
    }
    return out;
  }
}
