package org.postern.delivery.smtp;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Dot-stuffing gives the same bytes however the data is cut into chunks. */
class DotStufferTest {

  private static String stuffWhole(String data) {
    DotStuffer s = new DotStuffer();
    return s.stuff(Buffer.buffer(data)).toString() + s.terminator();
  }

  @Test
  void linesStartingWithADotGetAnother() {
    assertEquals("..\r\n...\r\n..x\r\na.b\r\n.\r\n", stuffWhole(".\r\n..\r\n.x\r\na.b\r\n"));
  }

  @Test
  void missingFinalLineEndIsAdded() {
    assertEquals("abc\r\n.\r\n", stuffWhole("abc"));
    assertEquals("abc\r\n.\r\n", stuffWhole("abc\r"));
    assertEquals("..\r\n.\r\n", stuffWhole("."));
    assertEquals(".\r\n", stuffWhole(""));
  }

  @Test
  void everySplitGivesTheSameResult() {
    String data = ".a\r\n..\r\nb.\r\n.\r\n\r\n.end";
    String expected = stuffWhole(data);
    for (int i = 0; i <= data.length(); i++) {
      for (int j = i; j <= data.length(); j++) {
        DotStuffer s = new DotStuffer();
        String out = s.stuff(Buffer.buffer(data.substring(0, i))).toString()
            + s.stuff(Buffer.buffer(data.substring(i, j))) + s.stuff(Buffer.buffer(data.substring(j)))
            + s.terminator();
        assertEquals(expected, out, "split at " + i + "," + j);
      }
    }
  }

  @Test
  void chunkWithoutLeadingDotsIsPassedThroughUncopied() {
    Buffer chunk = Buffer.buffer("no dots at line starts\r\nhere.\r\n");
    assertSame(chunk, new DotStuffer().stuff(chunk));
  }
}
