package org.postern.smtp;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The parsed argument of {@code MAIL FROM:} or {@code RCPT TO:}: a reverse- or forward-path
 * followed by optional ESMTP parameters (RFC 5321 §4.1.2 and §4.1.1.11).
 *
 * <p>Obtain instances with {@link #parse(String, boolean)}. Everything is kept exactly as the
 * client sent it: a quoted local part keeps its quotes and backslashes, and the domain keeps its
 * case (use {@link #domainLowerCase()} for lookups). A source route ({@code <@a,@b:user@c>}) is
 * accepted and discarded, as RFC 5321 §4.1.2 asks.
 *
 * <p>Parameters are only parsed, not interpreted: deciding which ones are supported (and
 * answering {@code 555} for the others) is up to the session. Keys are stored upper-cased
 * (look them up as {@code "SIZE"}, {@code "BODY"}...) in the order they were sent; a parameter
 * sent without {@code =value} maps to the empty string, which cannot be confused with a real
 * value because {@code KEY=} (empty value) is rejected.
 *
 * <p>Non-ASCII characters are accepted in the local part and in domain labels so that SMTPUTF8
 * (RFC 6531) can be added without touching the parser; a session that has not negotiated
 * SMTPUTF8 should reject paths for which {@link #requiresSmtpUtf8()} is true. Length limits are
 * counted in UTF-8 octets.
 *
 * @param localPart the local part as sent (with quotes if it was quoted); empty only for the null
 *     path
 * @param domain the domain or address literal as sent; empty for the null path and for the bare
 *     {@code <postmaster>} recipient
 * @param parameters ESMTP parameters, upper-cased keys, in the order sent; unmodifiable
 */
public record MailPath(String localPart, String domain, Map<String, String> parameters) {

  // RFC 5321 §4.5.3.1.
  private static final int MAX_LOCAL_PART = 64;
  private static final int MAX_DOMAIN = 255;
  private static final int MAX_PATH = 256;
  private static final int MAX_LABEL = 63;

  /**
   * Canonical constructor; copies {@code parameters} so that the record stays immutable.
   *
   * @param localPart local part, not {@code null}
   * @param domain domain, not {@code null}
   * @param parameters parameters, not {@code null}
   */
  public MailPath {
    Objects.requireNonNull(localPart, "localPart");
    Objects.requireNonNull(domain, "domain");
    Objects.requireNonNull(parameters, "parameters");
    parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
  }

  /**
   * Tells whether this is the null reverse-path {@code <>} used by bounces.
   *
   * @return {@code true} when both local part and domain are empty
   */
  public boolean isNull() {
    return localPart.isEmpty() && domain.isEmpty();
  }

  /**
   * The local part with RFC 5321 quoting removed ({@code "a b"} -> {@code a b},
   * {@code "x\"y"} -> {@code x"y}), as Exim's {@code $local_part}: what policy and routing must
   * look at, so that quoting cannot hide a character from a rule.
   *
   * @return the local part, unquoted
   */
  public String dequotedLocalPart() {
    if (localPart.length() < 2 || localPart.charAt(0) != '"' || localPart.charAt(localPart.length() - 1) != '"') {
      return localPart;
    }
    StringBuilder sb = new StringBuilder(localPart.length());
    for (int i = 1; i < localPart.length() - 1; i++) {
      char c = localPart.charAt(i);
      if (c == '\\' && i + 1 < localPart.length() - 1) {
        c = localPart.charAt(++i);
      }
      sb.append(c);
    }
    return sb.toString();
  }

  /**
   * Returns the mailbox as {@code local@domain}, with the local part as sent.
   *
   * @return the address; {@code ""} for the null path; just the local part for a domainless
   *     {@code <postmaster>}
   */
  public String address() {
    if (isNull()) {
      return "";
    }
    if (domain.isEmpty()) {
      return localPart;
    }
    return localPart + "@" + domain;
  }

  /**
   * Returns the domain lower-cased (ROOT locale), for comparisons and lookups; domains are
   * case-insensitive but the original spelling is kept in {@link #domain()} for logs and relaying.
   *
   * @return the lower-cased domain, possibly empty
   */
  public String domainLowerCase() {
    return domain.toLowerCase(Locale.ROOT);
  }

  /**
   * Tells whether the mailbox contains non-ASCII characters, which may only be accepted after
   * the client asked for SMTPUTF8 (RFC 6531).
   *
   * @return {@code true} if the local part or the domain has a character above U+007F
   */
  public boolean requiresSmtpUtf8() {
    return !isAscii(localPart) || !isAscii(domain);
  }

  /**
   * Parses what follows the colon of {@code MAIL FROM:} or {@code RCPT TO:}.
   *
   * <p>Leading spaces are skipped (many clients send {@code MAIL FROM: <x>}), and so are trailing
   * spaces. The path must be in angle brackets, except that a bare address containing no space
   * ({@code MAIL FROM:user@example.com}) is accepted because widely deployed MTAs accept it.
   *
   * @param argument the text after the colon, without CRLF
   * @param allowNull {@code true} for {@code MAIL} (the null path {@code <>} is allowed),
   *     {@code false} for {@code RCPT} (where the domainless {@code <postmaster>} is allowed
   *     instead, RFC 5321 §4.1.1.3)
   * @return the parsed path and parameters
   * @throws MailPathException with {@link MailPathException.Kind#SYNTAX} for a malformed path,
   *     or {@link MailPathException.Kind#BAD_PARAMETER} for a malformed or duplicate parameter
   */
  public static MailPath parse(String argument, boolean allowNull) throws MailPathException {
    if (argument == null) {
      throw syntax("missing address");
    }
    // Checked up front so that no later branch can let a CR/LF or NUL slip into a stored value
    // (header or log injection); it also makes these always SYNTAX, even inside parameters.
    for (int k = 0; k < argument.length(); k++) {
      char c = argument.charAt(k);
      if (c < 0x20 || c == 0x7f) {
        throw syntax(String.format("control character U+%04X not allowed", (int) c));
      }
    }
    return new Parser(argument, allowNull).parse();
  }

  private static MailPathException syntax(String message) {
    return new MailPathException(MailPathException.Kind.SYNTAX, message);
  }

  private static MailPathException badParameter(String message) {
    return new MailPathException(MailPathException.Kind.BAD_PARAMETER, message);
  }

  private static boolean isAscii(String s) {
    for (int k = 0; k < s.length(); k++) {
      if (s.charAt(k) >= 0x80) {
        return false;
      }
    }
    return true;
  }

  private static int utf8Length(String s) {
    return isAscii(s) ? s.length() : s.getBytes(StandardCharsets.UTF_8).length;
  }

  private static boolean isAlpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static boolean isHex(char c) {
    return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  /** RFC 5322 atext, extended with non-ASCII per RFC 6531. */
  private static boolean isAtext(char c) {
    return isAlpha(c) || isDigit(c) || "!#$%&'*+-/=?^_`{|}~".indexOf(c) >= 0 || c >= 0x80;
  }

  /** RFC 5321 qtextSMTP, extended with non-ASCII per RFC 6531. */
  private static boolean isQtext(char c) {
    return (c >= 32 && c <= 126 && c != '"' && c != '\\') || c >= 0x80;
  }

  private static boolean isLabelChar(char c) {
    return isAlpha(c) || isDigit(c) || c == '-' || c >= 0x80;
  }

  /** Cursor over one argument; one instance per parse call. */
  private static final class Parser {
    private final String s;
    private final boolean allowNull;
    private int i;
    private int end;

    Parser(String s, boolean allowNull) {
      this.s = s;
      this.allowNull = allowNull;
      this.end = s.length();
    }

    private char peek() {
      return i < end ? s.charAt(i) : '\0';
    }

    private boolean atEnd() {
      return i >= end;
    }

    MailPath parse() throws MailPathException {
      while (i < end && s.charAt(i) == ' ') {
        i++;
      }
      if (atEnd()) {
        throw syntax("missing address");
      }
      String local;
      String domain;
      if (peek() == '<') {
        int start = i;
        i++;
        if (peek() == '>') {
          i++;
          if (!allowNull) {
            throw syntax("null path <> not allowed here");
          }
          local = "";
          domain = "";
        } else {
          if (peek() == '@') {
            skipSourceRoute();
          }
          String[] mailbox = mailbox();
          local = mailbox[0];
          domain = mailbox[1];
          if (atEnd()) {
            throw syntax("missing '>'");
          }
          if (peek() == ' ') {
            throw syntax("space inside angle brackets");
          }
          if (peek() != '>') {
            throw syntax("unexpected character in address");
          }
          i++;
        }
        if (utf8Length(s.substring(start, i)) > MAX_PATH) {
          throw syntax("path longer than " + MAX_PATH + " octets");
        }
      } else {
        // Bare address: it ends at the first space, so a quoted local part with a space inside
        // is cut in two and rejected, which is what "without spaces" means here.
        int space = s.indexOf(' ', i);
        int tokenEnd = space < 0 ? end : space;
        int start = i;
        int savedEnd = end;
        end = tokenEnd;
        String[] mailbox = mailbox();
        if (!atEnd()) {
          throw syntax("unexpected character in address (angle brackets are required)");
        }
        end = savedEnd;
        local = mailbox[0];
        domain = mailbox[1];
        // +2 for the brackets the client should have sent.
        if (utf8Length(s.substring(start, i)) + 2 > MAX_PATH) {
          throw syntax("path longer than " + MAX_PATH + " octets");
        }
      }
      if (!atEnd() && peek() != ' ') {
        throw syntax("unexpected text after address");
      }
      Map<String, String> params = parameters();
      return new MailPath(local, domain, params);
    }

    /** Consumes {@code @dom1,@dom2:} after validating each domain, then forgets it. */
    private void skipSourceRoute() throws MailPathException {
      while (true) {
        if (peek() != '@') {
          throw syntax("malformed source route");
        }
        i++;
        domain();
        if (peek() == ',') {
          i++;
          continue;
        }
        if (peek() == ':') {
          i++;
          return;
        }
        throw syntax("malformed source route");
      }
    }

    /** Returns {local, domain}; the domain is "" only for a permitted bare postmaster. */
    private String[] mailbox() throws MailPathException {
      int start = i;
      if (peek() == '"') {
        quotedString();
      } else {
        dotAtom();
      }
      String local = s.substring(start, i);
      if (utf8Length(local) > MAX_LOCAL_PART) {
        throw syntax("local part longer than " + MAX_LOCAL_PART + " octets");
      }
      if (peek() == '@') {
        i++;
        return new String[] {local, domain()};
      }
      if (!allowNull && local.equalsIgnoreCase("postmaster")) {
        return new String[] {local, ""};
      }
      if (peek() == ' ') {
        throw syntax("unexpected space in address");
      }
      if (!atEnd() && peek() != '>') {
        throw syntax("invalid character in local part");
      }
      throw syntax("missing domain");
    }

    private void quotedString() throws MailPathException {
      i++; // opening quote
      int contentStart = i;
      while (true) {
        if (atEnd()) {
          throw syntax("unterminated quoted string");
        }
        char c = s.charAt(i);
        if (c == '"') {
          if (i == contentStart) {
            // `""@x` is syntactically a quoted-string but names no mailbox.
            throw syntax("empty local part");
          }
          i++;
          return;
        }
        if (c == '\\') {
          i++;
          if (atEnd()) {
            throw syntax("unterminated quoted string");
          }
          char q = s.charAt(i);
          if (q < 32 || q > 126) {
            throw syntax("invalid quoted-pair in local part");
          }
          i++;
          continue;
        }
        if (!isQtext(c)) {
          throw syntax("invalid character in quoted local part");
        }
        i++;
      }
    }

    private void dotAtom() throws MailPathException {
      boolean first = true;
      while (true) {
        int atomStart = i;
        while (!atEnd() && isAtext(s.charAt(i))) {
          i++;
        }
        if (i == atomStart) {
          char c = peek();
          boolean boundary = atEnd() || c == '@' || c == '>';
          if (c == ' ') {
            throw syntax("unexpected space in address");
          }
          if (c == '.') {
            throw syntax(first ? "local part starts with a dot" : "consecutive dots in local part");
          }
          if (!boundary) {
            throw syntax("invalid character in local part");
          }
          throw syntax(first ? "empty local part" : "local part ends with a dot");
        }
        first = false;
        if (peek() != '.') {
          return;
        }
        i++;
      }
    }

    private String domain() throws MailPathException {
      int start = i;
      if (peek() == '[') {
        int close = s.indexOf(']', i);
        if (close < 0 || close >= end) {
          throw syntax("unterminated address literal");
        }
        String content = s.substring(i + 1, close);
        if (!isValidAddressLiteral(content)) {
          throw syntax("invalid address literal");
        }
        i = close + 1;
      } else {
        while (true) {
          int labelStart = i;
          while (!atEnd() && isLabelChar(s.charAt(i))) {
            i++;
          }
          if (i == labelStart) {
            throw syntax("empty or invalid domain label");
          }
          if (s.charAt(labelStart) == '-' || s.charAt(i - 1) == '-') {
            throw syntax("domain label starts or ends with a hyphen");
          }
          if (utf8Length(s.substring(labelStart, i)) > MAX_LABEL) {
            throw syntax("domain label longer than " + MAX_LABEL + " octets");
          }
          if (peek() != '.') {
            break;
          }
          i++;
        }
      }
      String domain = s.substring(start, i);
      if (utf8Length(domain) > MAX_DOMAIN) {
        throw syntax("domain longer than " + MAX_DOMAIN + " octets");
      }
      return domain;
    }

    private Map<String, String> parameters() throws MailPathException {
      Map<String, String> params = new LinkedHashMap<>();
      while (true) {
        while (i < end && s.charAt(i) == ' ') {
          i++;
        }
        if (atEnd()) {
          return params;
        }
        int tokenEnd = s.indexOf(' ', i);
        if (tokenEnd < 0) {
          tokenEnd = end;
        }
        String token = s.substring(i, tokenEnd);
        i = tokenEnd;
        int eq = token.indexOf('=');
        String key = eq < 0 ? token : token.substring(0, eq);
        String value = eq < 0 ? "" : token.substring(eq + 1);
        if (!isKeyword(key)) {
          throw badParameter("malformed parameter keyword");
        }
        if (eq >= 0 && !isValue(value)) {
          throw badParameter("malformed value for parameter " + key.toUpperCase(Locale.ROOT));
        }
        String upper = key.toUpperCase(Locale.ROOT);
        if (params.putIfAbsent(upper, value) != null) {
          throw badParameter("duplicate parameter " + upper);
        }
      }
    }
  }

  /** esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"). */
  private static boolean isKeyword(String key) {
    if (key.isEmpty()) {
      return false;
    }
    for (int k = 0; k < key.length(); k++) {
      char c = key.charAt(k);
      boolean ok = isAlpha(c) || isDigit(c) || (k > 0 && c == '-');
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /** esmtp-value = 1*(%d33-60 / %d62-126). */
  private static boolean isValue(String value) {
    if (value.isEmpty()) {
      return false;
    }
    for (int k = 0; k < value.length(); k++) {
      char c = value.charAt(k);
      if (c < 33 || c > 126 || c == '=') {
        return false;
      }
    }
    return true;
  }

  private static boolean isValidAddressLiteral(String content) {
    if (content.regionMatches(true, 0, "IPv6:", 0, 5)) {
      return isIpv6(content.substring(5));
    }
    // General-address-literal (other tags) is deliberately not accepted: no tag other than
    // IPv6 has ever been registered, so anything else is a client error.
    return isIpv4(content);
  }

  private static boolean isIpv4(String s) {
    String[] parts = s.split("\\.", -1);
    if (parts.length != 4) {
      return false;
    }
    for (String p : parts) {
      if (p.isEmpty() || p.length() > 3) {
        return false;
      }
      for (int k = 0; k < p.length(); k++) {
        if (!isDigit(p.charAt(k))) {
          return false;
        }
      }
      if (Integer.parseInt(p) > 255) {
        return false;
      }
    }
    return true;
  }

  /** Accepts the four forms of RFC 5321 IPv6-addr (full/compressed, with or without IPv4 tail). */
  private static boolean isIpv6(String s) {
    int dc = s.indexOf("::");
    if (dc >= 0 && s.indexOf("::", dc + 1) >= 0) {
      return false;
    }
    int groups;
    if (dc < 0) {
      groups = countGroups(s, true);
      return groups == 8;
    }
    String head = s.substring(0, dc);
    String tail = s.substring(dc + 2);
    int h = head.isEmpty() ? 0 : countGroups(head, false);
    int t = tail.isEmpty() ? 0 : countGroups(tail, true);
    // "::" stands for at least one zero group.
    return h >= 0 && t >= 0 && h + t <= 7;
  }

  /** Number of 16-bit groups in a colon-separated run, or -1 if malformed. */
  private static int countGroups(String s, boolean ipv4TailAllowed) {
    String[] parts = s.split(":", -1);
    int groups = 0;
    for (int k = 0; k < parts.length; k++) {
      String p = parts[k];
      if (k == parts.length - 1 && ipv4TailAllowed && p.indexOf('.') >= 0) {
        if (!isIpv4(p)) {
          return -1;
        }
        groups += 2;
        continue;
      }
      if (p.isEmpty() || p.length() > 4) {
        return -1;
      }
      for (int m = 0; m < p.length(); m++) {
        if (!isHex(p.charAt(m))) {
          return -1;
        }
      }
      groups++;
    }
    return groups;
  }
}
