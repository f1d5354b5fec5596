package org.postern.queue;

/**
 * Exim's {@code string_printing()}: text from a remote server made safe to store, log or put in a
 * header. CR, LF and tab become {@code \r}, {@code \n}, {@code \t}, other
 * control and non-ASCII characters become {@code \ooo} (octal, per UTF-8 byte), so the result is
 * printable ASCII and can never start a new line.
 */
final class PrintableText {
  private PrintableText() {
  }

  static String escape(String text) {
    StringBuilder sb = new StringBuilder(text.length());
    for (byte b : text.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      switch (c) {
        case '\r' -> sb.append("\\r");
        case '\n' -> sb.append("\\n");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20 || c > 0x7e) {
            sb.append('\\').append(String.format("%03o", c));
          } else {
            sb.append((char) c);
          }
        }
      }
    }
    return sb.toString();
  }
}
