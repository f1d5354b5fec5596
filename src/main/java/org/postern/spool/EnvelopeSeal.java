package org.postern.spool;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The {@code -H} file's bytes: the envelope's JSON, then the content's length and CRC32C, the boot
 * it was written in ({@link BootId}), and last a CRC32C of everything before it
 * ({@code ,"crc32c":"xxxxxxxx"}}), still one JSON object. With it a message is whole by its
 * content rather than by the order its syncs completed in, which is what lets the commit rename
 * the envelope into place before its syncs and run them all in one round ({@link Spool#commit}):
 * after a crash, an envelope whose bytes, or whose content's bytes, did not reach the disk is
 * recognised ({@link #open}, {@link Content#matches}) instead of delivered. A reused file
 * ({@link FilePool}) may still hold another message's whole, sealed envelope, so the id inside
 * must be the file's. Envelopes without a seal (written before there was one, or by hand) are
 * taken as they are.
 */
final class EnvelopeSeal {
  private static final byte[] MARK = ",\"crc32c\":\"".getBytes(StandardCharsets.US_ASCII);
  /** The mark, eight hex digits, the closing quote and brace. */
  private static final int TRAILER = MARK.length + 8 + 2;
  private static final ThreadLocal<ByteBuffer> READ_BUFFER =
      ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(64 * 1024));

  private EnvelopeSeal() {
  }

  /** What the envelope says the content is: its length and CRC32C. */
  record Content(long length, int crc32c) {
    /** The first {@code length} bytes of {@code file}, read back (from the page cache, just written). */
    static Content of(FileChannel file, long length) throws IOException {
      CRC32C crc = new CRC32C();
      ByteBuffer buf = READ_BUFFER.get();
      long at = 0;
      while (at < length) {
        buf.clear();
        if (length - at < buf.capacity()) {
          buf.limit((int) (length - at));
        }
        int n = file.read(buf, at);
        if (n < 0) {
          throw new IOException("content shorter than " + length + " bytes");
        }
        buf.flip();
        crc.update(buf);
        at += n;
      }
      return new Content(length, (int) crc.getValue());
    }

    /** Null when {@code file} is this content, else why not. */
    String mismatch(FileChannel file) throws IOException {
      long size = file.size();
      if (size != length) {
        return "content is " + size + " bytes, the envelope says " + length;
      }
      return of(file, length).crc32c() == crc32c ? null : "content checksum mismatch";
    }
  }

  /**
   * An opened envelope.
   *
   * @param json    the envelope (null when torn)
   * @param content what the content must be, or null when the envelope does not say
   * @param bootId  the boot the envelope was written in, or null when unknown
   * @param torn    why the envelope itself is not whole, or null
   */
  record Opened(JsonObject json, Content content, String bootId, String torn) {
    /** True when the content must be checked: written in another boot, or in an unknown one. */
    boolean contentUnproven() {
      return content != null && (bootId == null || !bootId.equals(BootId.current()));
    }
  }

  /**
   * The sealed bytes of {@code envelope}, with {@code content} (or null) and this boot's id, which
   * are added to {@code envelope} itself: pass a fresh object ({@link Envelope#toJson}).
   */
  static byte[] seal(JsonObject envelope, Content content) {
    if (content != null) {
      envelope.put("data_length", content.length()).put("data_crc32c", hex(content.crc32c()));
    }
    if (BootId.current() != null) {
      envelope.put("boot_id", BootId.current());
    }
    byte[] body = envelope.encode().getBytes(StandardCharsets.UTF_8);
    // Everything but the closing brace is checksummed; the checksum goes where the brace was.
    CRC32C crc = new CRC32C();
    crc.update(body, 0, body.length - 1);
    byte[] out = new byte[body.length - 1 + TRAILER];
    System.arraycopy(body, 0, out, 0, body.length - 1);
    System.arraycopy(MARK, 0, out, body.length - 1, MARK.length);
    byte[] digits = hex((int) crc.getValue()).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(digits, 0, out, body.length - 1 + MARK.length, 8);
    out[out.length - 2] = '"';
    out[out.length - 1] = '}';
    return out;
  }

  /** The envelope in {@code bytes}, the file of message {@code id}. */
  static Opened open(byte[] bytes, String id) {
    JsonObject j;
    try {
      j = new JsonObject(new String(bytes, StandardCharsets.UTF_8));
    } catch (DecodeException | ClassCastException e) {
      return torn("envelope is not whole (" + bytes.length + " bytes)");
    }
    if (!id.equals(j.getString("id"))) {
      return torn("envelope names another message");
    }
    if (!j.containsKey("crc32c")) {
      return new Opened(j, null, null, null);
    }
    int mark = bytes.length - TRAILER;
    if (mark < 0 || !sameAt(bytes, mark, MARK) || bytes[bytes.length - 1] != '}') {
      return torn("envelope checksum misplaced");
    }
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, mark);
    if (!hex((int) crc.getValue()).equals(j.getString("crc32c"))) {
      return torn("envelope checksum mismatch");
    }
    Content content = null;
    if (j.containsKey("data_length")) {
      try {
        content = new Content(j.getLong("data_length"), Integer.parseUnsignedInt(j.getString("data_crc32c"), 16));
      } catch (RuntimeException e) {
        return torn("envelope's content checksum unreadable");
      }
    }
    return new Opened(j, content, j.getString("boot_id"), null);
  }

  private static Opened torn(String reason) {
    return new Opened(null, null, null, reason);
  }

  private static boolean sameAt(byte[] bytes, int at, byte[] what) {
    for (int i = 0; i < what.length; i++) {
      if (bytes[at + i] != what[i]) {
        return false;
      }
    }
    return true;
  }

  private static String hex(int value) {
    String h = Integer.toHexString(value);
    return "0".repeat(8 - h.length()) + h;
  }
}
