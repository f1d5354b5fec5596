package org.postern.smtp;

import java.util.Locale;

/**
 * How long one command line may be, per verb and per offered extension. RFC 5321 4.5.3.1.4 sets
 * 512 octets (CRLF included) and lets an extension raise it for its own commands: DSN (RFC 3461
 * section 3, items 6 and 7) adds 100 characters to MAIL for RET/ENVID and 500 to RCPT for
 * NOTIFY/ORCPT, AUTH (RFC 4954 section 3, item 5) adds 500 to MAIL for {@code AUTH=}, SMTPUTF8
 * (RFC 6531 section 3.1, item 5) adds 10 to MAIL. A raise applies only when the extension was offered to this client: a client
 * that was not told DSN has no business sending 1000-octet RCPT lines.
 *
 * <p>The line decoder frames lines up to {@link #ceiling}, the longest any verb may get; the
 * session then holds each line to {@link #forVerb}.
 */
public final class CommandLineLimits {
  /** RFC 3461: RET and ENVID on MAIL. */
  public static final int DSN_MAIL = 100;
  /** RFC 3461: NOTIFY and ORCPT on RCPT. */
  public static final int DSN_RCPT = 500;
  /** RFC 4954: AUTH= on MAIL. */
  public static final int AUTH_MAIL = 500;
  /** RFC 6531: the SMTPUTF8 parameter on MAIL. */
  public static final int UTF8_MAIL = 10;

  private CommandLineLimits() {
  }

  /** The longest line any verb may have with every extension offered: what the decoder frames. */
  public static int ceiling(int base) {
    return base + Math.max(DSN_MAIL + AUTH_MAIL + UTF8_MAIL, DSN_RCPT);
  }

  /**
   * The limit for one command line.
   *
   * @param verb the command verb (any case)
   * @param base the RFC 5321 limit (512), including CRLF
   * @param dsn  DSN was offered to this client
   * @param auth AUTH was offered to this client (or it has authenticated)
   * @param utf8 SMTPUTF8 was offered to this client
   */
  public static int forVerb(String verb, int base, boolean dsn, boolean auth, boolean utf8) {
    return switch (verb.toUpperCase(Locale.ROOT)) {
      case "MAIL" -> base + (dsn ? DSN_MAIL : 0) + (auth ? AUTH_MAIL : 0) + (utf8 ? UTF8_MAIL : 0);
      case "RCPT" -> base + (dsn ? DSN_RCPT : 0);
      default -> base;
    };
  }

  /** The octets {@code line} took on the wire (UTF-8), plus its CRLF. */
  public static int wireLength(String line) {
    int n = 2;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c < 0x80) {
        n++;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c)) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
  }
}
