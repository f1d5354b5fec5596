package org.postern.smtp;

import org.junit.jupiter.api.Test;
import org.postern.spool.Envelope;

import io.vertx.core.json.JsonObject;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RFC 8689 5: {@code tls-required = "TLS-Required:" [FWS] "No" CRLF}, case-insensitive (RFC 5234 2.3). */
class TlsRequiredFieldTest {
  private static final String FROM = "From: a@example.org\r\n";
  private static final String SUBJECT = "Subject: hello\r\n";

  @Test
  void theFieldAsTheRfcWritesItSaysNo() {
    assertTrue(TlsRequiredField.saysNo(FROM + "TLS-Required: No\r\n" + SUBJECT + "\r\n"));
  }

  @Test
  void nameAndValueMatchInAnyCase() {
    assertTrue(TlsRequiredField.saysNo("tls-required: no\r\n"));
    assertTrue(TlsRequiredField.saysNo("TLS-REQUIRED: NO\r\n"));
    assertTrue(TlsRequiredField.saysNo("Tls-Required: nO\r\n"));
  }

  @Test
  void whiteSpaceAroundTheValueAndFoldingBeforeItAreFolding() {
    assertTrue(TlsRequiredField.saysNo("TLS-Required:No\r\n"));
    assertTrue(TlsRequiredField.saysNo("TLS-Required:\t No \t\r\n"));
    assertTrue(TlsRequiredField.saysNo(FROM + "TLS-Required:\r\n No\r\n" + SUBJECT));
    assertTrue(TlsRequiredField.saysNo("TLS-Required:\r\n\tNo\r\n\r\nbody\r\n"));
    assertTrue(TlsRequiredField.saysNo("TLS-Required: No\n"), "LF line ends, as a header section may be passed");
  }

  @Test
  void anythingElseAsTheValueAsksForNothing() {
    assertFalse(TlsRequiredField.saysNo("TLS-Required: Yes\r\n"));
    assertFalse(TlsRequiredField.saysNo("TLS-Required:\r\n"));
    assertFalse(TlsRequiredField.saysNo("TLS-Required: No (please)\r\n"), "no CFWS in the grammar: a comment is not allowed");
    assertFalse(TlsRequiredField.saysNo("TLS-Required: (c) No\r\n"));
    assertFalse(TlsRequiredField.saysNo("TLS-Required: \"No\"\r\n"));
    assertFalse(TlsRequiredField.saysNo("TLS-Required: N\r\n o\r\n"), "folding inside the word");
    assertFalse(TlsRequiredField.saysNo("TLS-Required: Nope\r\n"));
    assertFalse(TlsRequiredField.saysNo("TLS-Required: No, thanks\r\n"));
  }

  @Test
  void otherFieldsAndLookAlikesAreNotTheField() {
    assertFalse(TlsRequiredField.saysNo("X-TLS-Required: No\r\n"));
    assertFalse(TlsRequiredField.saysNo("TLS-Required-Not: No\r\n"));
    assertFalse(TlsRequiredField.saysNo("TLS-Required : No\r\n"), "no white space before the colon (RFC 5322 2.2)");
    assertFalse(TlsRequiredField.saysNo(FROM + " TLS-Required: No\r\n"), "a continuation line of From:");
    assertFalse(TlsRequiredField.saysNo(FROM + "\r\nTLS-Required: No\r\n"), "in the body");
    assertFalse(TlsRequiredField.saysNo(""));
    assertFalse(TlsRequiredField.saysNo(null));
  }

  @Test
  void twoInstancesAreNotHonoured() {
    assertFalse(TlsRequiredField.saysNo("TLS-Required: No\r\nTLS-Required: No\r\n"));
    assertFalse(TlsRequiredField.saysNo("TLS-Required: Yes\r\n" + SUBJECT + "TLS-Required: No\r\n"));
  }

  @Test
  void anEnvelopeWrittenBeforeTlsRequiredNoStillLoads() {
    Envelope e = Envelope.fromJson(new JsonObject("{\"id\":\"1abcde-000000-AB\",\"sender\":\"a@b.example\","
        + "\"recipients\":[{\"address\":\"c@d.example\",\"local_part\":\"c\",\"domain\":\"d.example\","
        + "\"state\":\"pending\"}],\"received_at\":1,\"size\":3,\"requiretls\":true}"));
    assertTrue(e.requireTls());
    assertFalse(e.tlsRequiredNo());
    assertFalse(e.toJson().containsKey("tls_required_no"));
    Envelope marked = new Envelope(e.id(), e.sender(), e.recipients(), 1, "", 0, null, "esmtp", null, 0, null, "7BIT",
        3, false, 0, null, null, false, false, true);
    assertTrue(marked.toJson().getBoolean("tls_required_no"));
    assertTrue(Envelope.fromJson(marked.toJson()).tlsRequiredNo());
    assertTrue(marked.withFrozen(true).withWarningsSent(1).withDsn("FULL", null).tlsRequiredNo());
  }
}
