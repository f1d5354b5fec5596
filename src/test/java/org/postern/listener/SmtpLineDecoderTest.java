package org.postern.listener;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.postern.listener.SmtpLineDecoder.ChunkEnd;
import org.postern.listener.SmtpLineDecoder.DataChunk;
import org.postern.listener.SmtpLineDecoder.DataEnd;
import org.postern.listener.SmtpLineDecoder.Event;
import org.postern.listener.SmtpLineDecoder.Line;
import org.postern.listener.SmtpLineDecoder.LineTooLong;
import org.postern.listener.SmtpLineDecoder.Mode;

class SmtpLineDecoderTest {

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static String str(Buffer b) {
    return new String(b.getBytes(), StandardCharsets.ISO_8859_1);
  }

  private static void feed(SmtpLineDecoder d, String s) {
    d.feed(Buffer.buffer(bytes(s)));
  }

  private static void assertLine(Event e, String content, boolean bareLf) {
    Line line = assertInstanceOf(Line.class, e);
    assertEquals(content, str(line.content()));
    assertEquals(bareLf, line.bareLf(), "bareLf");
  }

  /** Drains DATA events until DataEnd; returns the concatenated content, or fails if it never ends. */
  private static String readData(SmtpLineDecoder d) {
    StringBuilder sb = new StringBuilder();
    Event e;
    while ((e = d.next()) != null) {
      if (e instanceof DataEnd) {
        assertEquals(Mode.COMMAND, d.mode());
        return sb.toString();
      }
      DataChunk chunk = assertInstanceOf(DataChunk.class, e);
      assertTrue(chunk.content().length() > 0, "empty DataChunk");
      sb.append(str(chunk.content()));
    }
    throw new AssertionError("DATA did not end; content so far: " + escape(sb.toString()));
  }

  private static String escape(String s) {
    return s.replace("\r", "\\r").replace("\n", "\\n").replace("\0", "\\0");
  }

  /**
   * The decoder keeps its buffer from one read to the next while content streams (issue 15): the
   * chunks it returned earlier must still hold their bytes after later reads reuse that buffer.
   */
  @Test
  void dataChunksKeepTheirBytesAfterLaterReadsReuseTheBuffer() {
    SmtpLineDecoder d = new SmtpLineDecoder(512);
    d.startData();
    java.util.List<Buffer> chunks = new java.util.ArrayList<>();
    StringBuilder sent = new StringBuilder();
    for (int i = 0; i < 50; i++) {
      String piece = "line " + i + " " + "abcdefghij".repeat(i % 7) + "\r\n" + (i % 5 == 0 ? "..stuffed\r\n" : "");
      sent.append(piece.replace("\r\n..", "\r\n."));
      feed(d, piece);
      Event e;
      while ((e = d.next()) != null) {
        chunks.add(assertInstanceOf(DataChunk.class, e).content());
      }
    }
    feed(d, ".\r\n");
    assertInstanceOf(DataEnd.class, d.next());
    StringBuilder got = new StringBuilder();
    chunks.forEach(c -> got.append(str(c)));
    assertEquals(escape(sent.toString()), escape(got.toString()));
  }

  // ---------------------------------------------------------------------------------------------
  // COMMAND mode

  @Test
  void simpleLine() {
    SmtpLineDecoder d = new SmtpLineDecoder(512);
    assertNull(d.next());
    feed(d, "EHLO example.org\r\n");
    assertLine(d.next(), "EHLO example.org", false);
    assertNull(d.next());
    assertEquals(0, d.buffered());
    assertEquals(Mode.COMMAND, d.mode());
  }

  @Test
  void partialLineWaitsForTerminator() {
    SmtpLineDecoder d = new SmtpLineDecoder(512);
    feed(d, "NO");
    assertNull(d.next());
    assertEquals(2, d.buffered());
    feed(d, "OP\r");
    assertNull(d.next());
    feed(d, "\n");
    assertLine(d.next(), "NOOP", false);
    assertNull(d.next());
  }

  @Test
  void pipelinedLinesInOneFeed() {
    SmtpLineDecoder d = new SmtpLineDecoder(512);
    feed(d, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nQU");
    assertLine(d.next(), "MAIL FROM:<a@b>", false);
    assertEquals("RCPT TO:<c@d>\r\nDATA\r\nQU".length(), d.buffered());
    assertLine(d.next(), "RCPT TO:<c@d>", false);
    assertLine(d.next(), "DATA", false);
    assertNull(d.next());
    assertEquals(2, d.buffered());
  }

  @Test
  void bareLfEndsCommandLine() {
    SmtpLineDecoder d = new SmtpLineDecoder(512);
    feed(d, "NOOP\nRSET\r\n\n");
    assertLine(d.next(), "NOOP", true);
    assertLine(d.next(), "RSET", false);
    assertLine(d.next(), "", true);
    assertNull(d.next());
  }

  @Test
  void crInsideCommandLineIsContent() {
    SmtpLineDecoder d = new SmtpLineDecoder(512);
    feed(d, "NO\rOP\r\nRSET\r\r\n\r\r\n");
    assertLine(d.next(), "NO\rOP", false);
    assertLine(d.next(), "RSET\r", false);
    assertLine(d.next(), "\r", false);
    assertNull(d.next());
  }

  @Test
  void nulAnd8BitInCommandLinePassThrough() {
    SmtpLineDecoder d = new SmtpLineDecoder(512);
    byte[] in = {'A', 0, (byte) 0xC3, (byte) 0xA9, (byte) 0xFF, '\r', '\n'};
    d.feed(Buffer.buffer(in));
    Line line = assertInstanceOf(Line.class, d.next());
    assertArrayEquals(new byte[] {'A', 0, (byte) 0xC3, (byte) 0xA9, (byte) 0xFF}, line.content().getBytes());
  }

  @Test
  void lineExactlyAtLimitPasses() {
    SmtpLineDecoder d = new SmtpLineDecoder(512);
    String body = "X".repeat(510);
    feed(d, body + "\r\n");
    assertLine(d.next(), body, false);
    // A bare-LF line counts its single-byte terminator.
    feed(d, "Y".repeat(511) + "\n");
    assertLine(d.next(), "Y".repeat(511), true);
  }

  @Test
  void lineOneOverLimitIsTooLongAndNextLineDecodes() {
    SmtpLineDecoder d = new SmtpLineDecoder(512);
    feed(d, "X".repeat(511) + "\r\nNOOP\r\n");
    assertInstanceOf(LineTooLong.class, d.next());
    assertLine(d.next(), "NOOP", false);
    assertNull(d.next());

    feed(d, "Y".repeat(512) + "\n" + "QUIT\r\n");
    assertInstanceOf(LineTooLong.class, d.next());
    assertLine(d.next(), "QUIT", false);
  }

  @Test
  void lineOneOverLimitSplitBeforeLf() {
    SmtpLineDecoder d = new SmtpLineDecoder(512);
    feed(d, "X".repeat(511) + "\r");
    assertNull(d.next());
    feed(d, "\nNOOP\r\n");
    assertInstanceOf(LineTooLong.class, d.next());
    assertLine(d.next(), "NOOP", false);
  }

  @Test
  void hugeLineDoesNotGrowBufferWhenFedInChunks() {
    SmtpLineDecoder d = new SmtpLineDecoder(512);
    byte[] kb = bytes("A".repeat(1000));
    for (int i = 0; i < 100; i++) {
      d.feed(Buffer.buffer(kb));
      assertNull(d.next());
      assertTrue(d.buffered() <= 512, "buffered " + d.buffered());
    }
    // The discarded part must not be held either between feeds with no next() in between.
    for (int i = 0; i < 10; i++) {
      d.feed(Buffer.buffer(kb));
      assertTrue(d.buffered() <= 512, "buffered " + d.buffered());
    }
    feed(d, "\r\nNOOP\r\n");
    assertInstanceOf(LineTooLong.class, d.next());
    assertLine(d.next(), "NOOP", false);
    assertNull(d.next());
    assertEquals(0, d.buffered());
  }

  @Test
  void hugeLineInOneFeedIsDroppedOnNext() {
    SmtpLineDecoder d = new SmtpLineDecoder(512);
    feed(d, "B".repeat(100 * 1024));
    assertNull(d.next());
    assertTrue(d.buffered() <= 512, "buffered " + d.buffered());
    feed(d, "B".repeat(100));
    assertNull(d.next());
    feed(d, "\nRSET\r\n");
    assertInstanceOf(LineTooLong.class, d.next());
    assertLine(d.next(), "RSET", false);
    assertNull(d.next());
  }

  @Test
  void rejectsNonPositiveLimit() {
    assertThrows(IllegalArgumentException.class, () -> new SmtpLineDecoder(0));
  }

  @Test
  void discardBufferedDropsPipelinedPlaintext() {
    SmtpLineDecoder d = new SmtpLineDecoder(512);
    feed(d, "STARTTLS\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<");
    assertLine(d.next(), "STARTTLS", false);
    assertTrue(d.buffered() > 0);
    d.discardBuffered();
    assertEquals(0, d.buffered());
    assertNull(d.next());
    feed(d, "EHLO secure\r\n");
    assertLine(d.next(), "EHLO secure", false);
    assertNull(d.next());
  }

  @Test
  void discardBufferedForgetsPartialLine() {
    SmtpLineDecoder d = new SmtpLineDecoder(512);
    feed(d, "STARTTLS\r\nRSE");
    assertLine(d.next(), "STARTTLS", false);
    assertNull(d.next());
    d.discardBuffered();
    feed(d, "NOOP\r\n");
    assertLine(d.next(), "NOOP", false);
  }

  // ---------------------------------------------------------------------------------------------
  // DATA mode

  private static SmtpLineDecoder inData(boolean normalize) {
    SmtpLineDecoder d = new SmtpLineDecoder(512);
    d.normalizeBareLineEnds(normalize);
    d.startData();
    assertEquals(Mode.DATA, d.mode());
    return d;
  }

  @Test
  void simpleMessageKeepsLastCrlf() {
    SmtpLineDecoder d = inData(false);
    feed(d, "abc\r\n.\r\n");
    assertEquals("abc\r\n", readData(d));
    assertEquals(0, d.buffered());
    assertFalse(d.sawBareLf());
    assertFalse(d.sawBareCr());
  }

  @Test
  void emptyMessage() {
    SmtpLineDecoder d = inData(false);
    feed(d, ".\r\nQUIT\r\n");
    assertInstanceOf(DataEnd.class, d.next());
    assertEquals(Mode.COMMAND, d.mode());
    assertLine(d.next(), "QUIT", false);
    assertNull(d.next());
  }

  @Test
  void dotUnstuffing() {
    SmtpLineDecoder d = inData(false);
    feed(d, "..x\r\na.b\r\n..\r\n...\r\n.\r\n");
    assertEquals(".x\r\na.b\r\n.\r\n..\r\n", readData(d));
  }

  @Test
  void leadingDotAtStartOfDataIsUnstuffed() {
    SmtpLineDecoder d = inData(false);
    feed(d, ".hidden\r\n.\r\n");
    assertEquals("hidden\r\n", readData(d));
  }

  @Test
  void chunksAreEmittedBeforeTerminatorArrives() {
    SmtpLineDecoder d = inData(false);
    feed(d, "Subject: hi\r\n\r\nbody");
    DataChunk c = assertInstanceOf(DataChunk.class, d.next());
    assertEquals("Subject: hi\r\n\r\nbody", str(c.content()));
    assertNull(d.next());
    assertEquals(0, d.buffered());
    assertEquals(Mode.DATA, d.mode());
    feed(d, "\r\n.");
    assertEquals("\r\n", str(assertInstanceOf(DataChunk.class, d.next()).content()));
    assertNull(d.next());
    feed(d, "\r");
    assertNull(d.next());
    feed(d, "\n");
    assertInstanceOf(DataEnd.class, d.next());
  }

  @Test
  void pipelinedCommandAfterDataEndStaysBuffered() {
    SmtpLineDecoder d = inData(false);
    feed(d, "hello\r\n.\r\nQUIT\r\n");
    assertEquals("hello\r\n", str(assertInstanceOf(DataChunk.class, d.next()).content()));
    assertEquals(Mode.DATA, d.mode());
    assertInstanceOf(DataEnd.class, d.next());
    assertEquals(Mode.COMMAND, d.mode());
    assertEquals("QUIT\r\n".length(), d.buffered());
    assertLine(d.next(), "QUIT", false);
    assertNull(d.next());
  }

  @Test
  void nulAnd8BitDataKeptByteExact() {
    SmtpLineDecoder d = inData(false);
    byte[] payload = new byte[256 * 2];
    int k = 0;
    for (int i = 0; i < 256; i++) {
      payload[k++] = (byte) i;
      payload[k++] = (byte) (255 - i);
    }
    // Line ends would legitimately be subject to framing rules; this test is about the other bytes.
    for (int i = 0; i < payload.length; i++) {
      if (payload[i] == '\r' || payload[i] == '\n') {
        payload[i] = 'x';
      }
    }
    ByteArrayOutputStream in = new ByteArrayOutputStream();
    in.writeBytes(payload);
    in.writeBytes(bytes("\r\n.\r\n"));
    d.feed(Buffer.buffer(in.toByteArray()));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Event e;
    while (!((e = d.next()) instanceof DataEnd)) {
      out.writeBytes(assertInstanceOf(DataChunk.class, e).content().getBytes());
    }
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    expected.writeBytes(payload);
    expected.writeBytes(bytes("\r\n"));
    assertArrayEquals(expected.toByteArray(), out.toByteArray());
  }

  @Test
  void startDataResetsBareFlags() {
    SmtpLineDecoder d = inData(false);
    feed(d, "a\nb\rc\r\n.\r\n");
    readData(d);
    assertTrue(d.sawBareLf());
    assertTrue(d.sawBareCr());
    d.startData();
    assertFalse(d.sawBareLf());
    assertFalse(d.sawBareCr());
    feed(d, "clean\r\n.\r\n");
    assertEquals("clean\r\n", readData(d));
    assertFalse(d.sawBareLf());
    assertFalse(d.sawBareCr());
  }

  @Test
  void normalizationConvertsBareLineEnds() {
    SmtpLineDecoder d = inData(true);
    feed(d, "a\nb\rc\r\r\nd\r\n.\r\n");
    assertEquals("a\r\nb\r\nc\r\n\r\nd\r\n", readData(d));
    assertTrue(d.sawBareLf());
    assertTrue(d.sawBareCr());
  }

  @Test
  void normalizedLfDoesNotEnableUnstuffing() {
    SmtpLineDecoder d = inData(true);
    // The dot after a bare LF is not at a line start, so it is kept as content.
    feed(d, "a\n..b\r\n.\r\n");
    assertEquals("a\r\n..b\r\n", readData(d));
  }

  static Stream<Arguments> smugglingVariants() {
    return Stream.of(
        // variant, default content, normalized content, bareLf, bareCr
        Arguments.of("\n.\n", "\n.\n", "\r\n.\r\n", true, false),
        Arguments.of("\r\n.\n", "\r\n\n", "\r\n\r\n", true, false),
        Arguments.of("\n.\r\n", "\n.\r\n", "\r\n.\r\n", true, false),
        Arguments.of("\r.\r", "\r.\r", "\r\n.\r\n", false, true),
        Arguments.of("\r.\r\n", "\r.\r\n", "\r\n.\r\n", false, true),
        Arguments.of("\r\n.\r", "\r\n\r", "\r\n\r\n", false, true),
        Arguments.of("\n.\r", "\n.\r", "\r\n.\r\n", true, true),
        Arguments.of("\r.\n", "\r.\n", "\r\n.\r\n", true, true),
        Arguments.of("\n\r\n.\n", "\n\r\n\n", "\r\n\r\n\r\n", true, false));
  }

  @ParameterizedTest
  @MethodSource("smugglingVariants")
  void smugglingVariantNeverEndsData(
      String variant, String expectedDefault, String expectedNormalized, boolean bareLf, boolean bareCr) {
    for (boolean normalize : new boolean[] {false, true}) {
      SmtpLineDecoder d = inData(normalize);
      feed(d, "hello" + variant + "MAIL FROM:<evil@x>\r\n.\r\nQUIT\r\n");
      String content = readData(d);
      String expected = (normalize ? expectedNormalized : expectedDefault);
      assertEquals(
          escape("hello" + expected + "MAIL FROM:<evil@x>\r\n"),
          escape(content),
          "normalize=" + normalize);
      assertEquals(bareLf, d.sawBareLf(), "sawBareLf normalize=" + normalize);
      assertEquals(bareCr, d.sawBareCr(), "sawBareCr normalize=" + normalize);
      assertLine(d.next(), "QUIT", false);
      assertNull(d.next());
    }
  }

  @ParameterizedTest
  @MethodSource("smugglingVariants")
  void smugglingVariantAloneDoesNotEndData(
      String variant, String expectedDefault, String expectedNormalized, boolean bareLf, boolean bareCr) {
    for (boolean normalize : new boolean[] {false, true}) {
      SmtpLineDecoder d = inData(normalize);
      feed(d, "x" + variant + "RSET\r\n");
      Event e;
      while ((e = d.next()) != null) {
        assertInstanceOf(DataChunk.class, e, "normalize=" + normalize);
      }
      assertEquals(Mode.DATA, d.mode());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Split invariance

  /**
   * Runs a simulated session over the given pieces, draining after every feed and switching to
   * DATA after each DATA command and to CHUNK mode after each {@code BDAT n [LAST]}, and renders
   * everything observable as a string.
   */
  private static String transcript(List<byte[]> pieces, int maxLineLength, boolean normalize) {
    SmtpLineDecoder d = new SmtpLineDecoder(maxLineLength);
    d.normalizeBareLineEnds(normalize);
    StringBuilder sb = new StringBuilder();
    StringBuilder data = new StringBuilder();
    boolean inMessage = false;
    boolean last = false;
    for (byte[] piece : pieces) {
      d.feed(Buffer.buffer(piece));
      Event e;
      while ((e = d.next()) != null) {
        if (e instanceof Line line) {
          String s = str(line.content());
          sb.append("LINE[").append(escape(s)).append(line.bareLf() ? "|bareLF" : "").append("]\n");
          if (s.equalsIgnoreCase("DATA")) {
            d.startData();
          }
          java.util.regex.Matcher bdat = java.util.regex.Pattern.compile("BDAT (\\d+)( LAST)?").matcher(s);
          if (bdat.matches()) {
            d.startChunk(Long.parseLong(bdat.group(1)), !inMessage);
            inMessage = true;
            last = bdat.group(2) != null;
          }
        } else if (e instanceof ChunkEnd) {
          sb.append("CHUNK[").append(escape(data.toString())).append("] lf=").append(d.sawBareLf())
              .append(" cr=").append(d.sawBareCr()).append(" mode=").append(d.mode());
          if (last) {
            sb.append(" completion=").append(escape(d.lineCompletion()));
            inMessage = false;
          }
          sb.append('\n');
          data.setLength(0);
        } else if (e instanceof LineTooLong) {
          sb.append("TOO_LONG\n");
        } else if (e instanceof DataChunk chunk) {
          if (chunk.content().length() == 0) {
            throw new AssertionError("empty DataChunk");
          }
          data.append(str(chunk.content()));
        } else if (e instanceof DataEnd) {
          sb.append("DATA[").append(escape(data.toString())).append("] lf=").append(d.sawBareLf())
              .append(" cr=").append(d.sawBareCr()).append(" mode=").append(d.mode()).append('\n');
          data.setLength(0);
        }
      }
    }
    sb.append("END partial=").append(escape(data.toString())).append(" mode=").append(d.mode())
        .append(" buffered=").append(d.buffered()).append(" lf=").append(d.sawBareLf())
        .append(" cr=").append(d.sawBareCr()).append(" lines=").append(d.lineEnds());
    return sb.toString();
  }

  static Stream<Arguments> trickyInputs() {
    String[] sessions = {
      "EHLO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nabc\r\n.\r\nQUIT\r\n",
      "DATA\r\n.\r\nDATA\r\n..\r\n...x\r\n.\r\nNOOP\r\n",
      "DATA\r\nhello\n.\nMAIL FROM:<e>\r\n.\r\nQUIT\r\n",
      "DATA\r\nhello\r\n.\nMAIL FROM:<e>\r\n.\r\nQUIT\r\n",
      "DATA\r\nhello\n.\r\nMAIL FROM:<e>\r\n.\r\nQUIT\r\n",
      "DATA\r\nhello\r.\rMAIL FROM:<e>\r\n.\r\nQUIT\r\n",
      "DATA\r\nhello\r.\r\nMAIL FROM:<e>\r\n.\r\nQUIT\r\n",
      "DATA\r\nx\r\n.\rz\r\r\r\n\r\n..\r\r\n.\r\nRSET\n",
      "DATA\r\n\r\n\r\n.\r\n\n\r\r\nNO\rOP\r\nDATA\r\n\0\u00ff\u0080\r\n.\r\n",
      "DATA\r\n.\n.\r.\r\n..\n\r\n.\r\nQUIT",
      "NOOP\r\n" + "L".repeat(40) + "\r\nRSET\r\n" + "M".repeat(14) + "\r\n" + "N".repeat(15) + "\n"
          + "O".repeat(15) + "\r\nQUIT\r\n",
      "DATA\r\n" + "long line in data is fine ".repeat(3) + "\r\n.\r\n" + "P".repeat(30) + "\nEND\r\n",
      // BDAT (RFC 3030): exact counts, dots and CRLF.CRLF are content (CVE-2017-16944).
      "BDAT 5\r\nab\r\n.BDAT 3 LAST\r\n.\r\nQUIT\r\n",
      "BDAT 12 LAST\r\nx\r\n.\r\nRSET\r\nQUIT\r\n",
      "BDAT 4\r\na\nb\rBDAT 2 LAST\r\n\ncNOOP\r\n",
      "BDAT 0 LAST\r\nQUIT\r\nBDAT 3 LAST\r\nabcQUIT\r\n",
      "BDAT 2\r\nx\rBDAT 1 LAST\r\nyDATA\r\n.\r\n",
      "BDAT 40 LAST\r\n" + "Q".repeat(40) + "NOOP\r\n",
    };
    List<Arguments> args = new ArrayList<>();
    for (String s : sessions) {
      for (boolean normalize : new boolean[] {false, true}) {
        args.add(Arguments.of(escape(s), bytes(s), 16, normalize));
        args.add(Arguments.of(escape(s), bytes(s), 512, normalize));
      }
    }
    return args.stream();
  }

  @ParameterizedTest(name = "[{index}] max={2} normalize={3} {0}")
  @MethodSource("trickyInputs")
  void splittingAtAnyOffsetGivesSameEvents(String name, byte[] input, int max, boolean normalize) {
    String whole = transcript(List.of(input), max, normalize);

    for (int k = 0; k <= input.length; k++) {
      List<byte[]> pieces = List.of(slice(input, 0, k), slice(input, k, input.length));
      assertEquals(whole, transcript(pieces, max, normalize), "split at " + k);
    }

    for (int k = 1; k < input.length; k++) {
      for (int j = k + 1; j < input.length; j += 3) {
        List<byte[]> pieces =
            List.of(slice(input, 0, k), slice(input, k, j), slice(input, j, input.length));
        assertEquals(whole, transcript(pieces, max, normalize), "split at " + k + "," + j);
      }
    }

    List<byte[]> single = new ArrayList<>();
    for (int i = 0; i < input.length; i++) {
      single.add(slice(input, i, i + 1));
    }
    assertEquals(whole, transcript(single, max, normalize), "byte by byte");

    Random rnd = new Random(name.hashCode() * 31L + max);
    for (int round = 0; round < 50; round++) {
      List<byte[]> pieces = new ArrayList<>();
      int pos = 0;
      while (pos < input.length) {
        int len = Math.min(input.length - pos, rnd.nextInt(6));
        pieces.add(slice(input, pos, pos + len));
        pos += len;
      }
      assertEquals(whole, transcript(pieces, max, normalize), "random round " + round);
    }
  }

  @Test
  void lineEndsCountCompletedLinesOnlyInBothModes() {
    SmtpLineDecoder d = new SmtpLineDecoder(512);
    feed(d, "NOOP\r\nDATA\r\n");
    assertLine(d.next(), "NOOP", false);
    assertLine(d.next(), "DATA", false);
    d.startData();
    feed(d, "one\r\ntwo\nthr");
    while (d.next() != null) {
      // content chunks; the line "thr" is not finished yet
    }
    assertEquals(4, d.lineEnds(), "a partial content line is not a line");
    feed(d, "ee\r\n.\r\n");
    assertEquals("ee\r\n", readData(d));
    assertEquals(6, d.lineEnds());
  }

  @Test
  void chunkModeCountsOctetsExactlyAndKeepsDotsAndTerminators() {
    SmtpLineDecoder d = new SmtpLineDecoder(16);
    feed(d, "BDAT 12 LAST\r\nx\r\n.\r\nRSET\r\nQUIT\r\n");
    assertLine(d.next(), "BDAT 12 LAST", false);
    d.startChunk(12, true);
    assertEquals(Mode.CHUNK, d.mode());
    DataChunk chunk = assertInstanceOf(DataChunk.class, d.next());
    assertEquals("x\r\n.\r\nRSET\r\n", str(chunk.content()));
    assertInstanceOf(ChunkEnd.class, d.next());
    assertEquals(Mode.COMMAND, d.mode());
    assertLine(d.next(), "QUIT", false);
    assertEquals("", d.lineCompletion());
    // A chunk longer than any command line is still content, and BDAT 0 ends at once.
    feed(d, "BDAT 0 LAST\r\n");
    assertLine(d.next(), "BDAT 0 LAST", false);
    d.startChunk(0, true);
    assertInstanceOf(ChunkEnd.class, d.next());
    assertThrows(IllegalArgumentException.class, () -> d.startChunk(-1, true));
  }

  @Test
  void transcriptOfChunkedSessionIsAsExpected() {
    String s = "BDAT 4\r\na\nb\rBDAT 2 LAST\r\n\ncNOOP\r\n";
    assertEquals(
        "LINE[BDAT 4]\n"
            + "CHUNK[a\\nb\\r] lf=true cr=false mode=COMMAND\n"
            + "LINE[BDAT 2 LAST]\n"
            + "CHUNK[\\nc] lf=true cr=false mode=COMMAND completion=\\r\\n\n"
            + "LINE[NOOP]\n"
            + "END partial= mode=COMMAND buffered=0 lf=true cr=false lines=5",
        transcript(List.of(bytes(s)), 512, false));
    String t = "BDAT 2\r\nx\rBDAT 1 LAST\r\nyNOOP\r\n";
    assertEquals(
        "LINE[BDAT 2]\n"
            + "CHUNK[x\\r] lf=false cr=false mode=COMMAND\n"
            + "LINE[BDAT 1 LAST]\n"
            + "CHUNK[\\ny] lf=false cr=true mode=COMMAND completion=\\r\\n\n"
            + "LINE[NOOP]\n"
            + "END partial= mode=COMMAND buffered=0 lf=false cr=true lines=3",
        transcript(List.of(bytes(t)), 512, true), "a bare CR across chunks, normalised");
  }

  @Test
  void transcriptOfSmugglingSessionIsAsExpected() {
    // Pins the reference transcript so the split test cannot pass with a consistently wrong decoder.
    String s = "DATA\r\nhello\n.\nMAIL FROM:<e>\r\n.\r\nQUIT\r\n";
    assertEquals(
        "LINE[DATA]\n"
            + "DATA[hello\\n.\\nMAIL FROM:<e>\\r\\n] lf=true cr=false mode=COMMAND\n"
            + "LINE[QUIT]\n"
            + "END partial= mode=COMMAND buffered=0 lf=true cr=false lines=6",
        transcript(List.of(bytes(s)), 512, false));
    String t = "NOOP\r\n" + "L".repeat(40) + "\r\nQUI";
    assertEquals(
        "LINE[NOOP]\nTOO_LONG\nEND partial= mode=COMMAND buffered=3 lf=false cr=false lines=2",
        transcript(List.of(bytes(t)), 16, false));
  }

  private static byte[] slice(byte[] a, int from, int to) {
    byte[] r = new byte[to - from];
    System.arraycopy(a, from, r, 0, r.length);
    return r;
  }

  /**
   * Decoders on one thread hand their arrays on to each other ({@link DecoderBuffers}): one that
   * drained its bytes gives its array back, the next one to need an array writes over it. Neither
   * the events already handed out nor a decoder still holding unread bytes may see that.
   */
  @Test
  void anArrayGivenBackIsNeverSharedWithEventsOrAnotherDecoder() {
    SmtpLineDecoder holding = new SmtpLineDecoder(512);
    feed(holding, "NOOP\r\nMAIL FROM:<a@example.test>\r\nRCPT");
    SmtpLineDecoder first = new SmtpLineDecoder(512);
    feed(first, "EHLO client.example\r\n");
    Event ehlo = first.next();
    assertNull(first.next(), "drained: its array is given back");
    SmtpLineDecoder second = new SmtpLineDecoder(512);
    feed(second, "QUIT\r\nXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\r\n");
    assertLine(second.next(), "QUIT", false);
    assertLine(ehlo, "EHLO client.example", false);
    assertLine(holding.next(), "NOOP", false);
    assertLine(holding.next(), "MAIL FROM:<a@example.test>", false);
    assertNull(holding.next());
    feed(holding, " TO:<b@example.test>\r\nDATA\r\n");
    assertLine(holding.next(), "RCPT TO:<b@example.test>", false);
    assertLine(holding.next(), "DATA", false);
    holding.startData();
    // A message larger than the arrays kept: the decoder's array grows while the others run.
    StringBuilder message = new StringBuilder();
    for (int k = 0; k < 4000; k++) {
      message.append("line ").append(k).append(" of a message bigger than any kept array\r\n");
    }
    feed(holding, message.toString());
    feed(first, "HELP with a line longer than what the other decoder read\r\n");
    assertLine(first.next(), "HELP with a line longer than what the other decoder read", false);
    assertLine(second.next(), "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", false);
    feed(holding, ".\r\nQUIT\r\n");
    assertEquals(message.toString(), readData(holding));
    assertLine(holding.next(), "QUIT", false);
  }

}
