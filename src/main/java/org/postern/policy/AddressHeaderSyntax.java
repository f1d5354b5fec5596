package org.postern.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Checks the headers that carry addresses ({@code From}, {@code Sender}, {@code Reply-To},
 * {@code To}, {@code Cc}, {@code Bcc} and their {@code Resent-} forms) against RFC 5322's
 * address-list grammar, as Exim's {@code verify = header_syntax} does: display names, angle
 * addresses, groups ({@code undisclosed-recipients:;}), quoted strings, comments and the obsolete
 * forms real mail still uses (dots in phrases, empty list elements, source routes). Addresses must
 * be qualified: a message from elsewhere has no business carrying {@code To: bob}.
 */
final class AddressHeaderSyntax {
  private static final Set<String> ADDRESS_HEADERS = Set.of("from", "sender", "reply-to", "to", "cc", "bcc",
      "resent-from", "resent-sender", "resent-reply-to", "resent-to", "resent-cc", "resent-bcc");

  private AddressHeaderSyntax() {
  }

  /** The first problem found, as "{@code 'To:' header: reason}", or null when every address header parses. */
  static String firstError(String headerSection) {
    for (String[] header : unfold(headerSection)) {
      if (!ADDRESS_HEADERS.contains(header[0].toLowerCase(Locale.ROOT))) {
        continue;
      }
      String error = new Parser(header[1]).addressList();
      if (error != null) {
        return "'" + header[0] + ":' header: " + error;
      }
    }
    return null;
  }

  /** Header fields as {name, unfolded value}. */
  private static List<String[]> unfold(String section) {
    List<String[]> out = new ArrayList<>();
    for (String line : section.split("\r?\n")) {
      if (line.isEmpty()) {
        break;
      }
      if ((line.charAt(0) == ' ' || line.charAt(0) == '\t') && !out.isEmpty()) {
        String[] last = out.get(out.size() - 1);
        last[1] = last[1] + " " + line.strip();
        continue;
      }
      int colon = line.indexOf(':');
      if (colon > 0) {
        out.add(new String[] {line.substring(0, colon).strip(), line.substring(colon + 1)});
      }
    }
    return out;
  }

  /** Recursive descent over one header value; each method returns an error text or null. */
  private static final class Parser {
    private static final String SPECIALS = "()<>[]:;@\\,.\"";
    private final String s;
    private int i;

    Parser(String s) {
      this.s = s;
    }

    String addressList() {
      cfws();
      if (i >= s.length()) {
        return "empty address list";
      }
      boolean any = false;
      while (true) {
        cfws();
        if (peek(',')) {
          // obs-addr-list: empty elements are tolerated.
          i++;
          continue;
        }
        if (i >= s.length()) {
          return any ? null : "no address";
        }
        String e = address();
        if (e != null) {
          return e;
        }
        any = true;
        cfws();
        if (i >= s.length()) {
          return null;
        }
        if (!peek(',')) {
          return "unexpected \"" + s.charAt(i) + "\" after an address (missing comma?)";
        }
        i++;
      }
    }

    /** mailbox, or group: phrase ":" [mailbox-list] ";" */
    private String address() {
      int start = i;
      List<String> words = phrase();
      cfws();
      if (!words.isEmpty() && peek(':')) {
        i++;
        while (true) {
          cfws();
          if (peek(';')) {
            i++;
            return null;
          }
          if (peek(',')) {
            i++;
            continue;
          }
          if (i >= s.length()) {
            return "group without its closing ';'";
          }
          String e = mailbox();
          if (e != null) {
            return e;
          }
        }
      }
      i = start;
      return mailbox();
    }

    private String mailbox() {
      int start = i;
      List<String> words = phrase();
      cfws();
      if (peek('<')) {
        i++;
        cfws();
        if (peek('@')) {
          // obs-route: @a,@b:
          while (peek('@') || peek(',')) {
            i++;
            if (s.charAt(i - 1) == '@' && domain() != null) {
              return "malformed source route";
            }
            cfws();
          }
          if (!peek(':')) {
            return "malformed source route";
          }
          i++;
        }
        String e = addrSpec();
        if (e != null) {
          return e;
        }
        cfws();
        if (!peek('>')) {
          return "missing '>' after an address";
        }
        i++;
        return null;
      }
      i = start;
      if (words.isEmpty() && i < s.length() && SPECIALS.indexOf(s.charAt(i)) >= 0 && s.charAt(i) != '"') {
        return "unexpected \"" + s.charAt(i) + "\"";
      }
      return addrSpec();
    }

    private String addrSpec() {
      cfws();
      if (!word()) {
        return i < s.length() ? "unexpected \"" + s.charAt(i) + "\" where a local part should be" : "missing address";
      }
      while (true) {
        cfws();
        if (!peek('.')) {
          break;
        }
        i++;
        cfws();
        if (!word()) {
          return "malformed local part";
        }
      }
      cfws();
      if (!peek('@')) {
        return "unqualified address (no domain)";
      }
      i++;
      return domain();
    }

    private String domain() {
      cfws();
      if (peek('[')) {
        int close = s.indexOf(']', i);
        if (close < 0) {
          return "unterminated domain literal";
        }
        i = close + 1;
        return null;
      }
      if (!atom()) {
        return "missing domain";
      }
      while (true) {
        cfws();
        if (!peek('.')) {
          return null;
        }
        i++;
        cfws();
        if (!atom()) {
          return "malformed domain";
        }
      }
    }

    /** phrase = 1*word, with obs-phrase's dots; returns the words read (possibly none). */
    private List<String> phrase() {
      List<String> words = new ArrayList<>();
      while (true) {
        cfws();
        int start = i;
        if (word() || (!words.isEmpty() && peek('.') && ++i > 0)) {
          words.add(s.substring(start, i));
        } else {
          return words;
        }
      }
    }

    private boolean word() {
      if (peek('"')) {
        int j = i + 1;
        while (j < s.length() && s.charAt(j) != '"') {
          j += s.charAt(j) == '\\' ? 2 : 1;
        }
        if (j >= s.length()) {
          return false;
        }
        i = j + 1;
        return true;
      }
      return atom();
    }

    private boolean atom() {
      int start = i;
      while (i < s.length() && isAtext(s.charAt(i))) {
        i++;
      }
      return i > start;
    }

    private static boolean isAtext(char c) {
      return c > ' ' && c != 0x7f && SPECIALS.indexOf(c) < 0;
    }

    /** Skips white space and (nested (comments)). */
    private void cfws() {
      while (i < s.length()) {
        char c = s.charAt(i);
        if (c == ' ' || c == '\t') {
          i++;
        } else if (c == '(') {
          int depth = 0;
          do {
            char d = s.charAt(i);
            if (d == '\\') {
              i++;
            } else if (d == '(') {
              depth++;
            } else if (d == ')') {
              depth--;
            }
            i++;
          } while (depth > 0 && i < s.length());
        } else {
          return;
        }
      }
    }

    private boolean peek(char c) {
      return i < s.length() && s.charAt(i) == c;
    }
  }
}
