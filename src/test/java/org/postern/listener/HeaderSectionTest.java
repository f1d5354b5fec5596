package org.postern.listener;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HeaderSectionTest {
  private static final String MESSAGE = "Received: from a\r\n"
      + "received:from b\r\n"
      + " Received: folded continuation\r\n"
      + "X-Received: by filter\r\n"
      + "Receive: not quite\r\n"
      + "RECEIVED : a space before the colon is another field name\r\n"
      + "ReCeIvEd: from c\r\n"
      + "\r\n"
      + "Received: in the body\r\n";

  private static int count(String... chunks) {
    HeaderSection h = new HeaderSection();
    for (String c : chunks) {
      h.add(Buffer.buffer(c.getBytes(StandardCharsets.ISO_8859_1)));
    }
    return h.received();
  }

  @Test
  void countsReceivedFieldsOfTheHeaderSectionOnlyWhereverTheChunksSplit() {
    assertEquals(3, count(MESSAGE));
    for (int k = 0; k <= MESSAGE.length(); k++) {
      assertEquals(3, count(MESSAGE.substring(0, k), MESSAGE.substring(k)), "split at " + k);
    }
    String[] bytes = MESSAGE.split("");
    assertEquals(3, count(bytes), "byte by byte");
  }

  @Test
  void countsBeyondTheKeptHeaderText() {
    String filler = "X-Filler: " + "x".repeat(1000) + "\r\n";
    String big = filler.repeat(HeaderSection.MAX / filler.length() + 2) + "Received: late\r\n\r\nbody\r\n";
    assertEquals(1, count(big));
  }

  @Test
  void aMessageWithoutHeadersHasNone() {
    assertEquals(0, count("\r\nReceived: body\r\n"));
  }

  private static HeaderSection section(String... chunks) {
    HeaderSection h = new HeaderSection();
    for (String c : chunks) {
      h.add(Buffer.buffer(c.getBytes(StandardCharsets.ISO_8859_1)));
    }
    return h;
  }

  /** The kept text ends with the last header line's LF, whichever of CRLF or LF ends the section, wherever the chunks split. */
  @Test
  void keepsTheHeaderSectionUpToItsBlankLineWhereverTheChunksSplit() {
    String headers = "Message-ID:  <a@b>\r\nSubject: one\r\n  two\r\n";
    for (String blank : new String[] {"\r\n", "\n"}) {
      String message = headers + blank + "body line\r\n.leading dot\r\n";
      for (int k = 0; k <= message.length(); k++) {
        for (int m = k; m <= message.length(); m += 3) {
          HeaderSection h = section(message.substring(0, k), message.substring(k, m), message.substring(m));
          String where = "blank " + blank.length() + " split at " + k + "/" + m;
          assertEquals(headers, h.text(), where);
          assertEquals("<a@b>", h.value("message-id"), where);
          assertEquals("one two", h.value("SUBJECT"), where);
          assertNull(h.value("body line"), where);
        }
      }
    }
  }

  @Test
  void valueIsTheFirstFieldOfThatNameUnfoldedAndTrimmed() {
    HeaderSection h = section("X-A: 1\r\nMessage-Id:\r\n\t<x@y>  \r\n folded\r\nmessage-id: <second>\r\n"
        + "Message-IDx: <not this field>\nSubject:\r\n\r\n");
    assertEquals("<x@y> folded", h.value("Message-ID"));
    assertEquals("", h.value("Subject"));
    assertNull(h.value("X-B"));
    assertNull(h.value("X"));
  }

  @Test
  void aSectionWithoutItsBlankLineKeepsAtMostMax() {
    String filler = "X-Filler: " + "x".repeat(1000) + "\r\n";
    HeaderSection h = section(filler.repeat(HeaderSection.MAX / filler.length() + 2));
    assertEquals(HeaderSection.MAX, h.text().length());
    assertEquals("x".repeat(1000), h.value("x-filler"));
  }
}
