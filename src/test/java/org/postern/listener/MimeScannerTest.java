package org.postern.listener;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The MIME parts of a message, found while its content streams past in arbitrary pieces. */
class MimeScannerTest {
  static final String MESSAGE = String.join("\r\n",
      "From: a@example.org",
      "MIME-Version: 1.0",
      "Content-Type: multipart/mixed;",
      "\tboundary=\"outer b\"",
      "",
      "preamble, not a part",
      "--outer b",
      "Content-Type: multipart/alternative; boundary=inner",
      "",
      "--inner",
      "Content-Type: text/plain; charset=\"utf-8\"",
      "Content-Transfer-Encoding: quoted-printable",
      "",
      "hello",
      "--inner",
      "Content-Type: text/html; charset=iso-8859-1",
      "",
      "<p>hello</p>",
      "--inner--",
      "--outer b",
      "Content-Type: application/octet-stream; name=\"fallback.bin\"",
      "Content-Disposition: attachment; filename=\"report; final.EXE\"",
      "Content-Transfer-Encoding: base64",
      "Content-ID: <part3@example.org>",
      "",
      "TVqQAAMAAAAEAAAA",
      "--outer b",
      "Content-Type: message/rfc822",
      "Content-Disposition: inline; filename*=utf-8''r%C3%A9sum%C3%A9.eml",
      "",
      "Subject: inner message",
      "",
      "--not a boundary",
      "--outer b--",
      "epilogue",
      "");

  private static JsonArray scan(String message, int... cuts) {
    MimeScanner scanner = new MimeScanner();
    byte[] bytes = message.getBytes(StandardCharsets.ISO_8859_1);
    int from = 0;
    for (int cut : cuts) {
      scanner.add(Buffer.buffer(java.util.Arrays.copyOfRange(bytes, from, cut)));
      from = cut;
    }
    scanner.add(Buffer.buffer(java.util.Arrays.copyOfRange(bytes, from, bytes.length)));
    return scanner.parts();
  }

  @Test
  void partsInOrderWithTheirFacts() {
    JsonArray parts = scan(MESSAGE);
    assertEquals(6, parts.size(), parts.encodePrettily());
    JsonObject top = parts.getJsonObject(0);
    assertEquals("multipart/mixed", top.getString("mime_content_type"));
    assertEquals("outer b", top.getString("mime_boundary"));
    assertEquals(1, top.getInteger("mime_is_multipart"));
    assertEquals("multipart/alternative", parts.getJsonObject(1).getString("mime_content_type"));
    JsonObject plain = parts.getJsonObject(2);
    assertEquals("text/plain", plain.getString("mime_content_type"));
    assertEquals("utf-8", plain.getString("mime_charset"));
    assertEquals("quoted-printable", plain.getString("mime_content_transfer_encoding"));
    assertEquals("hello\r\n".length(), plain.getLong("size"));
    assertEquals("iso-8859-1", parts.getJsonObject(3).getString("mime_charset"));
    JsonObject attachment = parts.getJsonObject(4);
    assertEquals("report; final.EXE", attachment.getString("mime_filename"), "Content-Disposition wins over name=");
    assertEquals("attachment", attachment.getString("mime_content_disposition"));
    assertEquals("base64", attachment.getString("mime_content_transfer_encoding"));
    assertEquals("<part3@example.org>", attachment.getString("mime_content_id"));
    assertEquals(4, attachment.getInteger("mime_part_count"));
    JsonObject rfc822 = parts.getJsonObject(5);
    assertEquals(1, rfc822.getInteger("mime_is_rfc822"));
    assertEquals("résumé.eml", rfc822.getString("mime_filename"));
    assertEquals(("Subject: inner message\r\n\r\n--not a boundary\r\n").length(), rfc822.getLong("size"));
    assertFalse(top.getBoolean("anomaly"));
  }

  @Test
  void anySplitOfTheContentGivesTheSameParts() {
    JsonArray whole = scan(MESSAGE);
    for (int cut = 1; cut < MESSAGE.length(); cut++) {
      assertEquals(whole, scan(MESSAGE, cut), "split at " + cut);
    }
    assertEquals(whole, scan(MESSAGE, 3, 17, 18, 100, 101, 102, 400));
  }

  @Test
  void aMessageWithoutMimeHeadersHasNoParts() {
    assertTrue(scan("Subject: plain\r\n\r\n--x\r\nbody\r\n").isEmpty());
    JsonArray single = scan("MIME-Version: 1.0\r\n\r\nbody\r\n");
    assertEquals(1, single.size());
    assertEquals("text/plain", single.getJsonObject(0).getString("mime_content_type"));
  }

  @Test
  void limitsAreAnAnomalyNotAnError() {
    StringBuilder deep = new StringBuilder("MIME-Version: 1.0\r\n");
    for (int k = 0; k < MimeScanner.MAX_DEPTH + 5; k++) {
      deep.append("Content-Type: multipart/mixed; boundary=b").append(k).append("\r\n\r\n--b").append(k).append("\r\n");
    }
    deep.append("\r\nbody\r\n");
    JsonArray parts = scan(deep.toString());
    assertTrue(parts.getJsonObject(0).getBoolean("anomaly"), "nesting beyond the limit");

    StringBuilder many = new StringBuilder("Content-Type: multipart/mixed; boundary=x\r\n\r\n");
    for (int k = 0; k < MimeScanner.MAX_PARTS + 10; k++) {
      many.append("--x\r\nContent-Type: text/plain\r\n\r\npart ").append(k).append("\r\n");
    }
    many.append("--x--\r\n");
    JsonArray capped = scan(many.toString());
    assertEquals(MimeScanner.MAX_PARTS, capped.size());
    assertTrue(capped.getJsonObject(0).getBoolean("anomaly"));

    JsonArray noBoundary = scan("Content-Type: multipart/mixed\r\n\r\nbody\r\n");
    assertTrue(noBoundary.getJsonObject(0).getBoolean("anomaly"));
  }
}
