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

  /** The attachment's part (the third) of a {@link MimeScannerTestMessages#withAttachment} message. */
  private static JsonObject attachment(String contentTypeParameters, String dispositionParameters) {
    JsonArray parts = scan(MimeScannerTestMessages.withAttachment(contentTypeParameters, dispositionParameters));
    assertEquals(3, parts.size(), parts.encodePrettily());
    return parts.getJsonObject(2);
  }

  @Test
  void rfc2231AndRfc2047FileNamesAreDecodedAsReadersDecodeThem() {
    for (String form : MimeScannerTestMessages.EXE_FILENAMES) {
      assertEquals("evil.exe", attachment("", form).getString("mime_filename"), form);
      assertEquals("evil.exe", attachment(MimeScannerTestMessages.asName(form), "").getString("mime_filename"),
          "Content-Type " + MimeScannerTestMessages.asName(form));
    }
    assertFalse(attachment("", MimeScannerTestMessages.EXE_FILENAMES.get(0)).getBoolean("anomaly"));
    assertTrue(attachment("", "filename*=x-postern-unknown''evil%2Eexe").getBoolean("anomaly"),
        "an unknown charset is only guessed at");
  }

  @Test
  void theRfc2231CharsetIsHonoured() {
    JsonObject latin1 = attachment("", "filename*=iso-8859-1''r%E9sum%E9.pdf");
    assertEquals("r\u00e9sum\u00e9.pdf", latin1.getString("mime_filename"));
    assertFalse(latin1.getBoolean("anomaly"));
    assertEquals("\u20ac.txt", attachment("name*=windows-1252'en'%80.txt", "").getString("mime_filename"));
    assertEquals("r\u00e9sum\u00e9.pdf", attachment("", "filename*0*=utf-8''r%C3%A9; filename*1*=sum%C3%A9.pdf")
        .getString("mime_filename"));
    assertEquals("r\u00e9sum\u00e9.pdf", attachment("", "filename=\"=?ISO-8859-1?Q?r=E9sum=E9.pdf?=\"")
        .getString("mime_filename"));
  }

  @Test
  void whatMainstreamClientsSendIsNoAnomaly() {
    String[][] sent = {
        {"name=\"=?UTF-8?B?w6lmLnBkZg==?=\"", "filename=\"=?UTF-8?B?w6lmLnBkZg==?=\""},             // Gmail
        {"name=\"=?UTF-8?B?w6lmLnBkZg==?=\"", "filename*=UTF-8''%C3%A9f.pdf"},                        // Thunderbird
        {"x-unix-mode=0644; name=\"=?utf-8?Q?=C3=A9f=2Epdf?=\"", "filename*=utf-8''%C3%A9f.pdf"},     // Apple Mail
        {"name=\"\u00e9f.pdf\"", "filename=\"\u00e9f.pdf\"; size=1234;\r\n creation-date=\"Tue, 06 Jan 2026 10:00:00 GMT\";"
            + " modification-date=\"Tue, 06 Jan 2026 10:00:00 GMT\""},                                 // Outlook
        {"", "filename*0*=UTF-8''%C3%A9; filename*1*=f.p; filename*2=df"},                              // long names
    };
    for (String[] headers : sent) {
      JsonObject part = attachment(headers[0], headers[1]);
      assertEquals("\u00e9f.pdf", part.getString("mime_filename"), String.join(" / ", headers));
      assertFalse(part.getBoolean("anomaly"), String.join(" / ", headers));
    }
  }

  @Test
  void parametersReadersDisagreeOnAreAnAnomaly() {
    for (String form : MimeScannerTestMessages.AMBIGUOUS_FILENAMES) {
      assertTrue(attachment("", form).getBoolean("anomaly"), form);
      assertTrue(attachment(MimeScannerTestMessages.asName(form), "").getBoolean("anomaly"),
          "Content-Type " + MimeScannerTestMessages.asName(form));
    }
    assertEquals("evil.exe", attachment("", MimeScannerTestMessages.AMBIGUOUS_FILENAMES.get(0))
        .getString("mime_filename"), "the encoded form is the one a client shows");
    JsonObject both = attachment("", "filename=\"resume.pdf\"; filename*=utf-8''resume.pdf");
    assertFalse(both.getBoolean("anomaly"), "both forms saying the same (RFC 2231 §4) are fine");
    String twoHeaders = MimeScannerTestMessages.withAttachment("", "filename=\"a.pdf\"")
        .replace("Content-Transfer-Encoding: base64", "Content-Disposition: attachment; filename=\"evil.exe\"");
    assertTrue(scan(twoHeaders).getJsonObject(2).getBoolean("anomaly"), "two Content-Disposition headers");
  }

  @Test
  void hostileParameterListsAreCutShortAsAnAnomaly() {
    StringBuilder many = new StringBuilder();
    for (int k = 0; k < 2_000; k++) {
      many.append("filename*").append(k).append("=x; ");
    }
    long start = System.nanoTime();
    JsonObject part = attachment("", many.toString());
    assertTrue(part.getBoolean("anomaly"), "more than " + MimeParameters.MAX_PARAMETERS + " parameters");
    StringBuilder unbalanced = new StringBuilder("filename=\"");
    unbalanced.append("(".repeat(12_000));
    assertTrue(attachment("", unbalanced.toString()).getBoolean("anomaly"), "unbalanced quote");
    String words = "=?UTF-8?Q?a?= ".repeat(MimeScanner.MAX_ENCODED_WORDS + 1);
    assertTrue(attachment("", "filename=\"" + words + "\"").getBoolean("anomaly"), "too many RFC 2047 words");
    assertTrue(System.nanoTime() - start < 5_000_000_000L, "hostile headers parse in bounded time");

    // The worst message: as many parts as are looked at, each with ~16 KB of parameters and words.
    StringBuilder worst = new StringBuilder("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n");
    String parameters = "filename*0*=utf-8''%41; " + "name=\"=?UTF-8?B?YQ==?= =?UTF-8?Q?b?=\"; ".repeat(300);
    for (int k = 0; k < MimeScanner.MAX_PARTS; k++) {
      worst.append("--x\r\nContent-Type: application/octet-stream;\r\n ").append(parameters.substring(0, 7_000))
          .append("\r\nContent-Disposition: attachment;\r\n ").append(parameters.substring(0, 7_000))
          .append("\r\n\r\nbody\r\n");
    }
    String message = worst.append("--x--\r\n").toString();
    long t0 = System.nanoTime();
    JsonArray parts = scan(message);
    long millis = (System.nanoTime() - t0) / 1_000_000;
    System.out.println("worst-case MIME headers: " + message.length() + " bytes, " + parts.size() + " parts scanned in "
        + millis + " ms");
    assertTrue(parts.getJsonObject(0).getBoolean("anomaly"));
    assertTrue(millis < 10_000, millis + " ms");
  }

  @Test
  void anySplitOfEncodedParametersGivesTheSameParts() {
    StringBuilder all = new StringBuilder("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n");
    for (String form : MimeScannerTestMessages.EXE_FILENAMES) {
      all.append("--x\r\nContent-Type: application/octet-stream;\r\n ").append(MimeScannerTestMessages.asName(form))
          .append("\r\nContent-Disposition: attachment;\r\n\t").append(form).append("\r\n\r\nTVqQ\r\n");
    }
    all.append("--x--\r\n");
    String message = all.toString();
    JsonArray whole = scan(message);
    assertEquals(MimeScannerTestMessages.EXE_FILENAMES.size() + 1, whole.size());
    for (int k = 1; k < whole.size(); k++) {
      assertEquals("evil.exe", whole.getJsonObject(k).getString("mime_filename"), whole.encodePrettily());
    }
    for (int cut = 1; cut < message.length(); cut++) {
      assertEquals(whole, scan(message, cut), "split at " + cut);
    }
  }
}
