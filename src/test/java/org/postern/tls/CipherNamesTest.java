package org.postern.tls;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.SSLContext;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tls_require_ciphers} as Exim admins write it for OpenSSL, evaluated over this JDK's suites. */
class CipherNamesTest {
  private static final List<String> TLS13 = List.of("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256",
      "TLS_CHACHA20_POLY1305_SHA256");
  /** Mozilla "intermediate" (v5.7), TLS 1.2 part. */
  private static final Set<String> MOZILLA_INTERMEDIATE = Set.of(
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
      "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

  /** This JDK's suites in its order of preference. */
  private static List<String> supported() throws Exception {
    return List.of(SSLContext.getDefault().getSupportedSSLParameters().getCipherSuites());
  }

  /** The TLS 1.2-and-older part of a result. */
  private static List<String> tls12(List<String> suites) {
    return suites.stream().filter(s -> s.contains("_WITH_")).toList();
  }

  @ParameterizedTest
  @CsvSource({
      "ECDHE-RSA-AES256-GCM-SHA384, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      "ECDHE-RSA-AES128-GCM-SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "ECDHE-ECDSA-AES256-GCM-SHA384, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
      "ECDHE-ECDSA-CHACHA20-POLY1305, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
      "DHE-RSA-AES256-GCM-SHA384, TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
      "ECDHE-RSA-AES256-SHA384, TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
      "AES128-GCM-SHA256, TLS_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"})
  void openSslAndJsseNamesMapToJsseAndKeepTls13(String name, String jsse) throws Exception {
    List<String> suites = CipherNames.toJsse(name, supported());
    assertEquals(List.of(jsse), tls12(suites));
    assertTrue(suites.containsAll(TLS13), "the expression governs TLS 1.2 and older, as with OpenSSL: " + suites);
  }

  @Test
  void namingTls13SuitesKeepsOnlyThose() throws Exception {
    assertEquals(List.of("TLS_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
        CipherNames.toJsse("TLS_AES_256_GCM_SHA384 : ECDHE-RSA-AES256-GCM-SHA384,TLS_AES_256_GCM_SHA384",
            supported()));
  }

  @Test
  void theDefaultIsMozillaIntermediate() throws Exception {
    List<String> suites = CipherNames.toJsse(CipherNames.INTERMEDIATE, supported());
    assertEquals(MOZILLA_INTERMEDIATE, Set.copyOf(tls12(suites)));
    assertTrue(suites.containsAll(TLS13), suites.toString());
    assertTrue(suites.stream().noneMatch(s -> s.contains("CBC") || s.startsWith("TLS_RSA_")), suites.toString());
  }

  @Test
  void highWithoutAnonymousOrMd5() throws Exception {
    List<String> suites = tls12(CipherNames.toJsse("HIGH:!aNULL:!MD5", supported()));
    // Every suite this JDK offers is HIGH (AES or ChaCha20, authenticated), in the JDK's order.
    assertEquals(tls12(supported()), suites);
  }

  @Test
  void combinedKeywordsIntersect() throws Exception {
    assertEquals(Set.of("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
        Set.copyOf(tls12(CipherNames.toJsse("ECDHE+AESGCM", supported()))));
    assertEquals(List.of("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
        tls12(CipherNames.toJsse("EECDH+aRSA+SHA1", supported())));
  }

  @Test
  void minusRemovesAndAllowsReaddingBangRemovesForGood() throws Exception {
    List<String> minus = tls12(CipherNames.toJsse("ALL:-kRSA:kRSA+AESGCM", supported()));
    assertEquals(List.of("TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_RSA_WITH_AES_128_GCM_SHA256"),
        minus.subList(minus.size() - 2, minus.size()), "re-added at the end");
    assertFalse(minus.contains("TLS_RSA_WITH_AES_128_CBC_SHA"), minus.toString());
    List<String> bang = tls12(CipherNames.toJsse("ALL:!kRSA:kRSA+AESGCM", supported()));
    assertTrue(bang.stream().noneMatch(s -> s.startsWith("TLS_RSA_")), bang.toString());
  }

  @Test
  void plusMovesToTheEndAndStrengthSorts() throws Exception {
    List<String> moved = tls12(CipherNames.toJsse("ECDHE+aRSA+AESGCM:+AES256", supported()));
    assertEquals(List.of("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"), moved);
    List<String> sorted = tls12(CipherNames.toJsse("ECDHE+aRSA+AESGCM:+AES256:@STRENGTH", supported()));
    assertEquals(List.of("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), sorted);
  }

  @ParameterizedTest
  @ValueSource(strings = {"HIGH:!aNULl", "HIGH:FOO", "ECDHE+NOPE", "@SECLEVEL=2", "RC4-MD5", "TLS_NOT_A_SUITE",
      "", " : "})
  void unknownKeywordsAndSuitesAreRefused(String spec) throws Exception {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CipherNames.toJsse(spec, supported()));
    assertTrue(e.getMessage().length() > 10, e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"!ALL", "HIGH:-HIGH", "aNULL", "RC4", "eNULL:!eNULL"})
  void anExpressionThatSelectsNothingIsRefused(String spec) throws Exception {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CipherNames.toJsse(spec, supported()));
    assertTrue(e.getMessage().contains("selects no cipher suite"), e.getMessage());
  }
}
