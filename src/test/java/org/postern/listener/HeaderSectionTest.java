package org.postern.listener;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
