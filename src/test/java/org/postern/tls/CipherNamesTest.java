package org.postern.tls;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.SSLContext;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CipherNamesTest {
  private static Set<String> supported() throws Exception {
    return Set.of(SSLContext.getDefault().getSupportedSSLParameters().getCipherSuites());
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
      "TLS_AES_256_GCM_SHA384, TLS_AES_256_GCM_SHA384"})
  void openSslAndJsseNamesMapToJsse(String name, String jsse) throws Exception {
    assertEquals(List.of(jsse), CipherNames.toJsse(name, supported()));
  }

  @org.junit.jupiter.api.Test
  void listsAreSplitOnColonCommaAndSpaceWithoutDuplicates() throws Exception {
    assertEquals(List.of("TLS_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
        CipherNames.toJsse("TLS_AES_256_GCM_SHA384 : ECDHE-RSA-AES256-GCM-SHA384,TLS_AES_256_GCM_SHA384",
            supported()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"HIGH:!aNULL", "DEFAULT", "RC4-MD5", "TLS_NOT_A_SUITE", "", " : "})
  void keywordsUnknownAndUnsupportedSuitesAreRefused(String spec) throws Exception {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CipherNames.toJsse(spec, supported()));
    assertTrue(e.getMessage().length() > 10, e.getMessage());
  }
}
