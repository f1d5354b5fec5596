package org.postern.listener;

import io.vertx.core.buffer.Buffer;

/**
 * Turns the raw byte stream of an SMTP connection into command lines and message content.
 *
 * <p>The decoder is pull-based: the connection {@link #feed(Buffer) feeds} whatever it received and
 * the session {@link #next() pulls} one event at a time, so it can finish handling a command
 * (asynchronously) and switch the {@link Mode mode} before the following bytes are interpreted.
 * Pipelined bytes therefore stay buffered until the session is ready for them.
 *
 * <p>The framing rules are deliberately strict because lenient end-of-data detection is what
 * enables SMTP smuggling (CVE-2023-51766 and relatives): the only end of DATA is
 * {@code CRLF "." CRLF}; bare LF and bare CR never start a line for dot purposes, whatever
 * normalisation is applied to the content. Splitting the input at any byte offset yields the same
 * event stream, so an attacker cannot influence decoding through TCP segmentation.
 *
 * <p>Not thread-safe: a decoder belongs to one connection on one event loop.
 */
public final class SmtpLineDecoder {

  /** What the bytes currently being decoded represent. */
  public enum Mode {
    /** Bytes are SMTP command lines. */
    COMMAND,
    /** Bytes are message content following a 354 reply. */
    DATA,
    /** Bytes are a BDAT chunk (RFC 3030): an exact octet count, no dot processing. */
    CHUNK
  }

  /** Events produced by {@link #next()}. */
  public sealed interface Event permits Line, LineTooLong, DataChunk, DataEnd, ChunkEnd {}

  /**
   * A command line without its terminator.
   *
   * @param content the line's bytes, CR/LF terminator removed; may contain CR, NUL or 8-bit bytes
   * @param bareLf {@code true} if the line was ended by a lone LF (no CR before it)
   */
  public record Line(Buffer content, boolean bareLf) implements Event {}

  /**
   * A command line longer than the configured maximum (counted including CRLF); its bytes up to and
   * including the next LF were discarded.
   */
  public record LineTooLong() implements Event {}

  /**
   * Message content, CRLFs kept: dot-unstuffed in DATA mode, verbatim in CHUNK mode. Never empty.
   *
   * @param content a chunk of the message, owned by the receiver
   */
  public record DataChunk(Buffer content) implements Event {}

  /**
   * CRLF.CRLF seen; the decoder is back in COMMAND mode. Bytes after the terminator remain buffered
   * for the next command.
   */
  public record DataEnd() implements Event {}

  /**
   * The octets a BDAT command announced were all consumed; the decoder is back in COMMAND mode.
   * Whatever follows, dots and CRLF.CRLF included, is the next command (CVE-2017-16944).
   */
  public record ChunkEnd() implements Event {}

  private static final byte CR = '\r';
  private static final byte LF = '\n';
  private static final byte DOT = '.';

  private static final LineTooLong LINE_TOO_LONG = new LineTooLong();
  private static final DataEnd DATA_END = new DataEnd();
  private static final ChunkEnd CHUNK_END = new ChunkEnd();

  // DATA scanner states. Only S_LINE_START (start of data or after a real CRLF) lets a dot be
  // special; that single rule is what keeps bare line ends from forging a terminator.
  private static final int S_LINE_START = 0;
  private static final int S_MID = 1;
  /** The previous byte was a CR which has already been emitted. */
  private static final int S_CR = 2;
  /** A line-start dot was seen and withheld (it is either stuffing or part of the terminator). */
  private static final int S_DOT = 3;
  /** A line-start dot and a CR were seen and both withheld. */
  private static final int S_DOT_CR = 4;

  private static final int INITIAL_CAPACITY = 512;

  private int maxLineLength;

  private static final byte[] EMPTY = new byte[0];

  // Idle connections hold no buffer at all: thousands of them are the normal case.
  private byte[] buf = EMPTY;
  private int start;
  private int end;

  private Mode mode = Mode.COMMAND;

  /** Bytes from {@code start} already known to contain no LF, so slow senders do not cause rescans. */
  private int scanned;
  /** A command line overflowed and we are dropping bytes until its LF. */
  private boolean discarding;

  private int dataState = S_LINE_START;
  /** The terminator was consumed but a DataChunk had to be returned first. */
  private boolean dataEndPending;
  private boolean sawBareLf;
  private boolean sawBareCr;
  private boolean normalize;
  /** Line terminators consumed, in every mode: the connection times each line against it. */
  private long lineEnds;
  /** CHUNK mode: octets of the current chunk not yet consumed. */
  private long chunkLeft;
  /** CHUNK mode: the last content byte was a CR (already emitted); kept across the chunks of a message. */
  private boolean chunkCr;
  /** CHUNK mode: the message's content so far is empty or ends with an LF. */
  private boolean chunkLineStart = true;

  /**
   * Creates a decoder in COMMAND mode.
   *
   * @param maxLineLength maximum length of a command line including its CRLF (RFC 5321: 512)
   * @throws IllegalArgumentException if {@code maxLineLength < 1}
   */
  public SmtpLineDecoder(int maxLineLength) {
    if (maxLineLength < 1) {
      throw new IllegalArgumentException("maxLineLength must be positive: " + maxLineLength);
    }
    this.maxLineLength = maxLineLength;
  }

  /**
   * Appends received bytes. The bytes are copied, so the caller may reuse or release {@code bytes}
   * afterwards. No event is decoded here; call {@link #next()} until it returns {@code null}.
   *
   * @param bytes the received bytes
   */
  public void feed(Buffer bytes) {
    int n = bytes.length();
    int from = 0;
    if (discarding && start == end) {
      // The rest of an overlong line would only be thrown away by next(), so never store it:
      // this keeps a peer streaming an endless line from costing us memory.
      while (from < n && bytes.getByte(from) != LF) {
        from++;
      }
      if (from == n) {
        return;
      }
    }
    int len = n - from;
    if (len == 0) {
      return;
    }
    ensureWritable(len);
    bytes.getBytes(from, n, buf, end);
    end += len;
  }

  /**
   * Changes the command-line limit for the lines that follow, e.g. to 12288 octets while a SASL
   * exchange expects long base64 responses (RFC 4954), and back to 512 afterwards.
   *
   * @param limit maximum line length including CRLF
   */
  public void maxLineLength(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("maxLineLength must be positive: " + limit);
    }
    this.maxLineLength = limit;
  }

  /**
   * Decodes the next event from the buffered bytes.
   *
   * @return the next event, or {@code null} when more bytes are needed
   */
  public Event next() {
    Event e = switch (mode) {
      case COMMAND -> nextCommand();
      case DATA -> nextData();
      case CHUNK -> nextChunk();
    };
    if (start == end) {
      if (mode == Mode.COMMAND) {
        resetEmpty();
      } else {
        // Content streams on: the next read comes at once, so the buffer is kept for it instead of
        // a new one per read (one array per network read of every message, the largest garbage
        // of the receive path). Events hold copies, never this array. Given back at the end of DATA.
        start = 0;
        end = 0;
      }
    }
    return e;
  }

  /**
   * Switches to DATA mode; called once the 354 reply has been sent. The current position counts as
   * the start of a line, so an immediate ".\r\n" is an empty message. Resets the bare line end
   * flags.
   */
  public void startData() {
    mode = Mode.DATA;
    dataState = S_LINE_START;
    dataEndPending = false;
    sawBareLf = false;
    sawBareCr = false;
    discarding = false;
    scanned = 0;
  }

  /**
   * Switches to CHUNK mode for the {@code octets} that follow a BDAT command (RFC 3030): they are
   * emitted verbatim as {@link DataChunk}s, then {@link ChunkEnd}, whatever they contain. Bare line
   * ends are flagged (and normalised when asked) as in DATA mode; the state they need (a CR at the
   * end of one chunk, the flags) carries over from chunk to chunk of one message.
   *
   * @param octets     the chunk size, 0 or more
   * @param newMessage the chunk is the first of a message: the bare line end flags are reset
   * @throws IllegalArgumentException if {@code octets < 0}
   */
  public void startChunk(long octets, boolean newMessage) {
    if (octets < 0) {
      throw new IllegalArgumentException("negative chunk size: " + octets);
    }
    mode = Mode.CHUNK;
    chunkLeft = octets;
    discarding = false;
    scanned = 0;
    if (newMessage) {
      chunkCr = false;
      chunkLineStart = true;
      sawBareLf = false;
      sawBareCr = false;
    }
  }

  /**
   * What ends the last line of a message received in chunks, which need not end with CRLF: nothing
   * when the content is empty or ends with a line end, LF after a final CR, else CRLF. (Exim, too,
   * adds the missing newline.)
   *
   * @return the bytes to append after the last chunk
   */
  public String lineCompletion() {
    return chunkCr ? "\n" : chunkLineStart ? "" : "\r\n";
  }

  /**
   * Returns the current mode.
   *
   * @return COMMAND; DATA between {@link #startData()} and the {@link DataEnd} event; CHUNK between
   *         {@link #startChunk} and the {@link ChunkEnd} event
   */
  public Mode mode() {
    return mode;
  }

  /**
   * Returns the number of undecoded bytes held, for back-pressure and pipelining checks.
   *
   * @return buffered byte count
   */
  public int buffered() {
    return end - start;
  }

  /**
   * Drops every undecoded byte and any partially received command line. Used after STARTTLS:
   * plaintext sent after the STARTTLS command must never be executed inside the TLS session.
   */
  public void discardBuffered() {
    start = 0;
    end = 0;
    scanned = 0;
    discarding = false;
    DecoderBuffers.give(buf);
    buf = EMPTY;
  }

  /**
   * Counts the line terminators (LF, with or without its CR) decoded so far, command lines and
   * message content alike, so a caller can tell that a line was completed: Exim's
   * {@code smtp_receive_timeout} is a deadline per line, not per packet.
   *
   * @return the number of LFs consumed since the decoder was created
   */
  public long lineEnds() {
    return lineEnds;
  }

  /**
   * Reports whether, since the last {@link #startData()}, DATA content contained an LF not preceded
   * by CR.
   *
   * @return {@code true} if a bare LF was seen
   */
  public boolean sawBareLf() {
    return sawBareLf;
  }

  /**
   * Reports whether, since the last {@link #startData()}, DATA content contained a CR not followed
   * by LF.
   *
   * @return {@code true} if a bare CR was seen
   */
  public boolean sawBareCr() {
    return sawBareCr;
  }

  /**
   * When enabled, bare LF and bare CR in DATA content are emitted as CRLF. This only rewrites the
   * content: a normalised line end still does not start a line for dot-unstuffing or terminator
   * detection.
   *
   * @param on whether to normalise bare line ends
   */
  public void normalizeBareLineEnds(boolean on) {
    this.normalize = on;
  }

  // ---------------------------------------------------------------------------------------------
  // COMMAND mode

  private Event nextCommand() {
    byte[] b = buf;
    if (discarding) {
      for (int i = start; i < end; i++) {
        if (b[i] == LF) {
          start = i + 1;
          discarding = false;
          lineEnds++;
          return LINE_TOO_LONG;
        }
      }
      start = end;
      return null;
    }
    // Looking past maxLineLength is pointless: such a line is too long whatever follows.
    int limit = Math.min(end, start + maxLineLength);
    for (int i = start + scanned; i < limit; i++) {
      if (b[i] == LF) {
        boolean crlf = i > start && b[i - 1] == CR;
        int contentEnd = crlf ? i - 1 : i;
        int len = contentEnd - start;
        Buffer content = Buffer.buffer(len).appendBytes(b, start, len);
        start = i + 1;
        scanned = 0;
        lineEnds++;
        return new Line(content, !crlf);
      }
    }
    if (limit - start >= maxLineLength) {
      // maxLineLength bytes and no LF yet: the terminator would push it over the limit.
      discarding = true;
      scanned = 0;
      start = limit;
      return nextCommand();
    }
    scanned = limit - start;
    return null;
  }

  // ---------------------------------------------------------------------------------------------
  // DATA mode

  private Event nextData() {
    if (dataEndPending) {
      return finishData();
    }
    if (start == end) {
      return null;
    }
    final byte[] b = buf;
    final int lim = end;
    final boolean norm = normalize;
    int st = dataState;
    int i = start;
    // Bytes in [run, i) are emitted verbatim; withheld or dropped bytes end the current run.
    int run = i;
    Buffer out = null;
    boolean ended = false;

    loop:
    while (i < lim) {
      switch (st) {
        case S_MID -> {
          byte c = b[i];
          while (c != CR && c != LF) {
            if (++i == lim) {
              break loop;
            }
            c = b[i];
          }
          if (c == CR) {
            st = S_CR;
          } else {
            out = bareLf(out, b, run, i);
            run = norm ? i : run;
          }
          i++;
        }
        case S_CR -> {
          if (b[i] == LF) {
            st = S_LINE_START;
            lineEnds++;
            i++;
          } else {
            // The CR was bare; reprocess this byte as ordinary mid-line content.
            sawBareCr = true;
            if (norm) {
              out = append(out, b, run, i);
              out.appendByte(LF);
              run = i;
            }
            st = S_MID;
          }
        }
        case S_LINE_START -> {
          if (b[i] == DOT) {
            out = append(out, b, run, i);
            i++;
            run = i;
            st = S_DOT;
          } else {
            st = S_MID;
          }
        }
        case S_DOT -> {
          // The withheld dot is dropped in every case: stuffing or terminator.
          byte c = b[i];
          if (c == CR) {
            i++;
            run = i;
            st = S_DOT_CR;
          } else {
            if (c == LF) {
              // The run starts at this LF already: nothing before it to copy.
              out = bareLf(out, b, run, i);
            }
            i++;
            st = S_MID;
          }
        }
        case S_DOT_CR -> {
          if (b[i] == LF) {
            i++;
            run = i;
            lineEnds++;
            ended = true;
            break loop;
          }
          // ".\r" followed by anything but LF: stuffed dot then a bare CR, which was withheld
          // (possibly in an earlier feed) so it must be re-emitted explicitly.
          sawBareCr = true;
          out = append(out, b, run, i);
          out.appendByte(CR);
          if (norm) {
            out.appendByte(LF);
          }
          st = S_MID;
        }
        default -> throw new IllegalStateException("state " + st);
      }
    }

    if (!ended) {
      out = append(out, b, run, i);
    }
    start = i;
    dataState = st;
    boolean hasContent = out != null && out.length() > 0;
    if (ended) {
      if (hasContent) {
        dataEndPending = true;
        return new DataChunk(out);
      }
      return finishData();
    }
    return hasContent ? new DataChunk(out) : null;
  }

  // ---------------------------------------------------------------------------------------------
  // CHUNK mode

  private Event nextChunk() {
    if (chunkLeft == 0) {
      mode = Mode.COMMAND;
      scanned = 0;
      return CHUNK_END;
    }
    if (start == end) {
      return null;
    }
    final byte[] b = buf;
    final boolean norm = normalize;
    final int lim = start + (int) Math.min(end - start, chunkLeft);
    Buffer out = null;
    int run = start;
    boolean cr = chunkCr;
    for (int i = start; i < lim; i++) {
      byte c = b[i];
      if (cr) {
        cr = false;
        if (c == LF) {
          lineEnds++;
          continue;
        }
        sawBareCr = true;
        if (norm) {
          out = append(out, b, run, i);
          out.appendByte(LF);
          run = i;
        }
      }
      if (c == CR) {
        cr = true;
      } else if (c == LF) {
        out = bareLf(out, b, run, i);
        run = norm ? i : run;
      }
    }
    chunkCr = cr;
    chunkLineStart = b[lim - 1] == LF;
    out = append(out, b, run, lim);
    chunkLeft -= lim - start;
    start = lim;
    return new DataChunk(out);
  }

  /**
   * A bare LF at {@code b[i]}: flagged and counted; when normalising, the content before it is
   * copied out and a CR added, so the caller's run restarts at the LF. Returns the output so far.
   */
  private Buffer bareLf(Buffer out, byte[] b, int run, int i) {
    sawBareLf = true;
    lineEnds++;
    return normalize ? append(out, b, run, i).appendByte(CR) : out;
  }

  private Event finishData() {
    dataEndPending = false;
    mode = Mode.COMMAND;
    dataState = S_LINE_START;
    scanned = 0;
    return DATA_END;
  }

  private static Buffer append(Buffer out, byte[] b, int from, int to) {
    int len = to - from;
    if (out == null) {
      // Headroom for a few normalisation insertions without regrowing.
      out = Buffer.buffer(len + 16);
    }
    if (len > 0) {
      out.appendBytes(b, from, len);
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Storage

  private void ensureWritable(int len) {
    if (buf.length - end >= len) {
      return;
    }
    int live = end - start;
    long needed = (long) live + len;
    if (needed > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("buffer overflow");
    }
    if (needed <= buf.length) {
      System.arraycopy(buf, start, buf, 0, live);
    } else {
      long doubled = Math.min((long) buf.length * 2, Integer.MAX_VALUE - 8);
      int cap = (int) Math.max(needed, Math.max(INITIAL_CAPACITY, doubled));
      byte[] nb = DecoderBuffers.take(cap);
      System.arraycopy(buf, start, nb, 0, live);
      DecoderBuffers.give(buf);
      buf = nb;
    }
    start = 0;
    end = live;
  }

  private void resetEmpty() {
    start = 0;
    end = 0;
    DecoderBuffers.give(buf);
    buf = EMPTY;
  }
}
