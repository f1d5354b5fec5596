package org.postern.smtp;

/**
 * RFC 3461 4 "xtext", the encoding of ESMTP parameter values that may hold any character:
 * {@code AUTH=} (RFC 4954), {@code ENVID=} and {@code ORCPT=} (RFC 3461). A character outside
 * {@code !}..{@code ~}, and {@code +} and {@code =} themselves, travel as {@code +XX} (upper-case hex).
 */
public final class XText {
  private XText() {
  }

  /** The decoded value, or null when {@code value} is empty or not xtext (a bad or lower-case escape, a space, {@code =}). */
  public static String decode(String value) {
    if (value == null || value.isEmpty()) {
      return null;
    }
    StringBuilder out = new StringBuilder(value.length());
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '+') {
        if (i + 2 >= value.length() || !isHex(value.charAt(i + 1)) || !isHex(value.charAt(i + 2))) {
          return null;
        }
        out.append((char) Integer.parseInt(value.substring(i + 1, i + 3), 16));
        i += 2;
      } else if (c < 33 || c > 126 || c == '=') {
        return null;
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  /** {@code text} as xtext; characters above U+00FF are not representable and must be refused before. */
  public static String encode(String text) {
    StringBuilder out = new StringBuilder(text.length() + 8);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 33 || c > 126 || c == '+' || c == '=') {
        out.append('+').append(Character.toUpperCase(Character.forDigit(c >> 4 & 0xF, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static boolean isHex(char c) {
    return c >= '0' && c <= '9' || c >= 'A' && c <= 'F';
  }
}
