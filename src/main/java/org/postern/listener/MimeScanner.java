package org.postern.listener;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;

/**
 * Finds the MIME parts of a message as its content streams past, for Exim's MIME ACL: each part's
 * type, charset, boundary, file name, disposition, transfer encoding, ID, description and raw body
 * size, in the order they appear, multiparts included. Bodies are not decoded and nothing is kept
 * but the facts, so memory stays bounded whatever the message: at most {@link #MAX_PARTS} parts,
 * {@link #MAX_DEPTH} nested multiparts, {@link #MAX_HEADER} bytes of headers per part and
 * {@link #MAX_ENCODED_WORDS} RFC 2047 words are looked at; beyond that, or when the parameters
 * are ambiguous ({@link MimeParameters}), the message counts as a MIME anomaly
 * ({@code $mime_anomaly_level}), which a MIME ACL must refuse: what was not seen was not checked.
 * A message without {@code MIME-Version:} or {@code Content-Type:} has no parts.
 */
final class MimeScanner {
  static final int MAX_PARTS = 500;
  static final int MAX_DEPTH = 20;
  static final int MAX_HEADER = 16 * 1024;
  /** RFC 2047 words decoded per message: a real file name has a few. */
  static final int MAX_ENCODED_WORDS = 100;
  /** RFC 5322's line limit: enough for any header line and any boundary line. */
  private static final int MAX_KEPT_LINE = 1000;

  private final byte[] line = new byte[MAX_KEPT_LINE];
  private int kept;
  private long lineLength;
  private final Deque<String> boundaries = new ArrayDeque<>();
  private final StringBuilder headerText = new StringBuilder();
  private boolean inHeaders = true;
  private boolean topLevel = true;
  private JsonObject current;
  private long currentSize;
  private final JsonArray parts = new JsonArray();
  private boolean anomaly;
  private int encodedWordsLeft = MAX_ENCODED_WORDS;

  void add(Buffer chunk) {
    for (int i = 0; i < chunk.length(); i++) {
      byte b = chunk.getByte(i);
      if (kept < MAX_KEPT_LINE) {
        line[kept++] = b;
      }
      lineLength++;
      if (b == '\n') {
        endOfLine();
      }
    }
  }

  /** The parts found, once the whole content was added. */
  JsonArray parts() {
    if (lineLength > 0) {
      endOfLine();
    }
    if (inHeaders) {
      endOfHeaders();
    }
    closePart();
    JsonArray out = parts.copy();
    out.forEach(p -> ((JsonObject) p).put("anomaly", anomaly));
    return out;
  }

  private void endOfLine() {
    long length = lineLength;
    int keptBytes = kept;
    kept = 0;
    lineLength = 0;
    // Body lines matter only as boundaries: no strings for the rest.
    if (!inHeaders && (keptBytes < 2 || line[0] != '-' || line[1] != '-')) {
      currentSize += length;
      return;
    }
    String text = new String(line, 0, keptBytes, StandardCharsets.ISO_8859_1);
    String content = text.endsWith("\r\n") ? text.substring(0, text.length() - 2)
        : text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
    if (inHeaders) {
      if (content.isEmpty()) {
        endOfHeaders();
      } else if (headerText.length() + content.length() < MAX_HEADER) {
        headerText.append(content).append('\n');
      } else {
        anomaly = true;
      }
      return;
    }
    if (content.startsWith("--") && !boundaries.isEmpty() && boundary(content)) {
      return;
    }
    currentSize += length;
  }

  /** Records the body size of the part that just ended (a multipart's own body is not counted). */
  private void closePart() {
    if (current != null) {
      current.put("size", currentSize);
    }
    current = null;
    currentSize = 0;
  }

  /** A boundary line of an open multipart: ends the current part, and opens the next unless it closes. */
  private boolean boundary(String content) {
    String stripped = content.stripTrailing();
    int depth = 0;
    for (String b : boundaries) {
      boolean close = stripped.equals("--" + b + "--");
      if (close || stripped.equals("--" + b)) {
        for (int k = 0; k < depth; k++) {
          boundaries.pop();
        }
        closePart();
        if (close) {
          boundaries.pop();
        } else {
          inHeaders = true;
          headerText.setLength(0);
        }
        return true;
      }
      depth++;
    }
    return false;
  }

  private void endOfHeaders() {
    inHeaders = false;
    String headers = headerText.toString();
    headerText.setLength(0);
    boolean top = topLevel;
    topLevel = false;
    String contentType = header(headers, "content-type");
    if (top && contentType == null && header(headers, "mime-version") == null) {
      return;
    }
    if (parts.size() >= MAX_PARTS) {
      anomaly = true;
      return;
    }
    MimeParameters typeFields = contentType == null ? null : fields(contentType);
    String disposition = header(headers, "content-disposition");
    MimeParameters dispositionFields = disposition == null ? null : fields(disposition);
    anomaly |= repeated(headers, "content-type") || repeated(headers, "content-disposition");
    String type = typeFields == null || typeFields.value().isEmpty() ? "text/plain" : typeFields.value();
    String filename = dispositionFields == null ? null : fileName(dispositionFields, "filename");
    if (filename == null && typeFields != null) {
      filename = fileName(typeFields, "name");
    }
    String boundary = typeFields == null ? null : typeFields.get("boundary");
    boolean multipart = type.startsWith("multipart/");
    JsonObject part = new JsonObject()
        .put("mime_content_type", type)
        .put("mime_charset", orEmpty(typeFields == null ? null : typeFields.get("charset")))
        .put("mime_boundary", orEmpty(boundary))
        .put("mime_filename", orEmpty(filename))
        .put("mime_content_disposition", dispositionFields == null ? "" : dispositionFields.value())
        .put("mime_content_transfer_encoding", orEmpty(lower(header(headers, "content-transfer-encoding"))))
        .put("mime_content_id", orEmpty(header(headers, "content-id")))
        .put("mime_content_description", orEmpty(header(headers, "content-description")))
        .put("mime_is_multipart", multipart ? 1 : 0)
        .put("mime_is_rfc822", type.equals("message/rfc822") ? 1 : 0)
        .put("mime_part_count", parts.size())
        .put("size", 0L);
    parts.add(part);
    closePart();
    current = multipart ? null : part;
    if (multipart && boundary != null && !boundary.isEmpty()) {
      if (boundaries.size() >= MAX_DEPTH) {
        anomaly = true;
      } else {
        boundaries.push(boundary);
      }
    } else if (multipart) {
      anomaly = true;
    }
  }

  /** An unfolded header value, or null; header names compared without case. */
  static String header(String headers, String name) {
    String[] lines = headers.split("\n");
    for (int i = 0; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon > 0 && lines[i].substring(0, colon).strip().equalsIgnoreCase(name)) {
        StringBuilder v = new StringBuilder(lines[i].substring(colon + 1));
        for (int j = i + 1; j < lines.length && !lines[j].isEmpty()
            && (lines[j].charAt(0) == ' ' || lines[j].charAt(0) == '\t'); j++) {
          v.append(' ').append(lines[j].strip());
        }
        return v.toString().strip();
      }
    }
    return null;
  }

  /** A structured header's value and parameters; ambiguous or cut-short parameters are an anomaly. */
  private MimeParameters fields(String header) {
    MimeParameters fields = MimeParameters.parse(header);
    anomaly |= fields.anomaly();
    return fields;
  }

  /**
   * A file name parameter as a client shows it: the RFC 2231 form if there is one, RFC 2047 words
   * decoded. A sender may give a plain form too (RFC 2231 §4, for old readers); readers differ on
   * which one they take, so the two must say the same, or it is an anomaly.
   */
  private String fileName(MimeParameters fields, String name) {
    String encoded = decodedWords(fields.encoded(name));
    String plain = decodedWords(fields.plain(name));
    if (encoded != null && plain != null && !encoded.equals(plain)) {
      anomaly = true;
    }
    return encoded != null ? encoded : plain;
  }

  /**
   * RFC 2047 words decoded, at most {@link #MAX_ENCODED_WORDS} per message (each costs a library
   * lookup); words beyond that, or in a charset Java does not know, stay as sent, an anomaly.
   */
  private String decodedWords(String raw) {
    if (raw == null) {
      return null;
    }
    int words = MimeParameters.encodedWords(raw);
    if (words > encodedWordsLeft) {
      anomaly = true;
      return raw;
    }
    encodedWordsLeft -= words;
    try {
      return MimeParameters.decodeWords(raw);
    } catch (java.io.UnsupportedEncodingException unknownCharset) {
      anomaly = true;
      return raw;
    }
  }

  /**
   * True when a part has the header more than once: readers disagree on which one counts
   * (RFC 2045 allows one), so a filter must not pick.
   */
  private static boolean repeated(String headers, String name) {
    int seen = 0;
    for (String line : headers.split("\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).strip().equalsIgnoreCase(name) && ++seen > 1) {
        return true;
      }
    }
    return false;
  }

  private static String lower(String s) {
    return s == null ? null : s.toLowerCase(Locale.ROOT);
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }
}
