package org.postern.cli;

import io.vertx.core.buffer.Buffer;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;

import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;

/**
 * A message as sendmail's callers hand it over on standard input (LF line ends, no dot-stuffing),
 * and what the sendmail options make of it, as Exim does for a local submission:
 * <ul>
 *   <li>without {@code -i}/{@code -oi}, a line with a single dot ends the message;
 *   <li>{@code -t}: the recipients are the addresses of {@code To:}, {@code Cc:} and {@code Bcc:}
 *       (of the {@code Resent-} forms where the message has any {@code Resent-} header), minus
 *       those on the command line (Exim's {@code extract_addresses_remove_arguments}); without it,
 *       the command-line addresses;
 *   <li>{@code Bcc:} lines are removed (with or without {@code -t}, as Postfix does: a blind copy
 *       never shows its other recipients);
 *   <li>unqualified addresses get {@code @primary_hostname} (Exim's {@code qualify_domain});
 *   <li>{@code From:} (with {@code -F}'s full name), {@code Date:} and {@code Message-ID:} are
 *       added when missing.
 * </ul>
 */
record SendmailMessage(String sender, List<String> recipients, byte[] content, boolean eightBit) {
  private static final DateTimeFormatter RFC_5322_DATE =
      DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.ROOT);

  /** The options of the sendmail command line that shape the message. */
  record Options(boolean extractRecipients, boolean dotEndsMessage, String sender, String fullName,
                 List<String> arguments, String login, String qualifyDomain) {
  }

  /** @throws IllegalArgumentException with a usage message for an address that cannot be parsed */
  static SendmailMessage of(byte[] input, Options options) {
    List<String> lines = lines(input, options.dotEndsMessage());
    int body = 0;
    while (body < lines.size() && !lines.get(body).isEmpty() && isHeaderLine(lines.get(body), body == 0)) {
      body++;
    }
    List<String> headers = new ArrayList<>(lines.subList(0, body));
    List<String> rest = lines.subList(body < lines.size() && lines.get(body).isEmpty() ? body + 1 : body, lines.size());

    String login = options.login() + "@" + options.qualifyDomain();
    Set<String> recipients = new LinkedHashSet<>();
    if (options.extractRecipients()) {
      boolean resent = headers.stream().anyMatch(h -> name(h).startsWith("resent-"));
      for (String field : resent ? List.of("resent-to", "resent-cc", "resent-bcc") : List.of("to", "cc", "bcc")) {
        for (String value : values(headers, field)) {
          recipients.addAll(addresses(value, options.qualifyDomain()));
        }
      }
      for (String argument : options.arguments()) {
        recipients.removeAll(addresses(argument, options.qualifyDomain()));
      }
    } else {
      for (String argument : options.arguments()) {
        recipients.addAll(addresses(argument, options.qualifyDomain()));
      }
    }
    headers = withoutFields(headers, Set.of("bcc", "resent-bcc"));
    if (values(headers, "from").isEmpty()) {
      String name = options.fullName();
      headers.add("From: " + (name == null || name.isBlank() ? login : quotedPhrase(name) + " <" + login + ">"));
    }
    if (values(headers, "date").isEmpty()) {
      headers.add("Date: " + RFC_5322_DATE.format(ZonedDateTime.now()));
    }
    if (values(headers, "message-id").isEmpty()) {
      headers.add("Message-ID: <" + UUID.randomUUID() + "@" + options.qualifyDomain() + ">");
    }

    StringBuilder text = new StringBuilder();
    headers.forEach(h -> text.append(h).append('\n'));
    text.append('\n');
    rest.forEach(l -> text.append(l).append('\n'));
    byte[] content = text.toString().getBytes(StandardCharsets.ISO_8859_1);
    boolean eightBit = false;
    for (byte b : content) {
      eightBit |= b < 0;
    }
    String sender = options.sender() == null ? login
        : options.sender().equals("<>") || options.sender().isEmpty() ? ""
        : addresses(options.sender(), options.qualifyDomain()).get(0);
    return new SendmailMessage(sender, List.copyOf(recipients), content, eightBit);
  }

  /** The message as DATA content: CRLF line ends, dot-stuffed (RFC 5321 4.5.2), ending with the dot line. */
  Buffer smtpContent() {
    Buffer out = Buffer.buffer(content.length + content.length / 40 + 8);
    int start = 0;
    for (int i = 0; i < content.length; i++) {
      if (content[i] == '\n') {
        if (content[start] == '.' && i > start) {
          out.appendByte((byte) '.');
        }
        out.appendBytes(content, start, i - start).appendString("\r\n");
        start = i + 1;
      }
    }
    return out.appendString(".\r\n");
  }

  /** The input's lines, bytes kept as they are (ISO-8859-1 maps each byte to one char), without CR before LF. */
  private static List<String> lines(byte[] input, boolean dotEnds) {
    String text = new String(input, StandardCharsets.ISO_8859_1);
    List<String> lines = new ArrayList<>();
    for (String line : text.split("\n", -1)) {
      if (line.endsWith("\r")) {
        line = line.substring(0, line.length() - 1);
      }
      if (dotEnds && line.equals(".")) {
        return lines;
      }
      lines.add(line);
    }
    if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
      lines.remove(lines.size() - 1); // the newline that ended the last line
    }
    return lines;
  }

  /** RFC 5322 2.2: a field name of printable characters but the colon, or a folded continuation. */
  private static boolean isHeaderLine(String line, boolean first) {
    if (!first && (line.charAt(0) == ' ' || line.charAt(0) == '\t')) {
      return true;
    }
    int colon = line.indexOf(':');
    return colon > 0 && line.substring(0, colon).chars().allMatch(c -> c > 32 && c < 127);
  }

  private static String name(String headerLine) {
    int colon = headerLine.indexOf(':');
    return colon < 0 ? "" : headerLine.substring(0, colon).trim().toLowerCase(Locale.ROOT);
  }

  /** The unfolded values of every field of that name. */
  private static List<String> values(List<String> headers, String field) {
    List<String> values = new ArrayList<>();
    StringBuilder current = null;
    for (String h : headers) {
      boolean continuation = h.charAt(0) == ' ' || h.charAt(0) == '\t';
      if (continuation) {
        if (current != null) {
          current.append(' ').append(h.strip());
        }
        continue;
      }
      if (current != null) {
        values.add(current.toString());
      }
      current = name(h).equals(field) ? new StringBuilder(h.substring(h.indexOf(':') + 1).strip()) : null;
    }
    if (current != null) {
      values.add(current.toString());
    }
    return values;
  }

  private static List<String> withoutFields(List<String> headers, Set<String> fields) {
    List<String> kept = new ArrayList<>();
    boolean dropping = false;
    for (String h : headers) {
      boolean continuation = h.charAt(0) == ' ' || h.charAt(0) == '\t';
      if (!continuation) {
        dropping = fields.contains(name(h));
      }
      if (!dropping) {
        kept.add(h);
      }
    }
    return kept;
  }

  /** The addresses of an address-list field (groups included, their names not), qualified where bare. */
  private static List<String> addresses(String value, String qualifyDomain) {
    List<String> out = new ArrayList<>();
    try {
      for (InternetAddress a : InternetAddress.parseHeader(value, false)) {
        if (a.isGroup()) {
          for (InternetAddress member : a.getGroup(false)) {
            out.add(qualified(member.getAddress(), qualifyDomain));
          }
        } else if (a.getAddress() != null && !a.getAddress().isEmpty()) {
          out.add(qualified(a.getAddress(), qualifyDomain));
        }
      }
    } catch (AddressException e) {
      throw new IllegalArgumentException("bad address \"" + value + "\": " + e.getMessage(), e);
    }
    return out;
  }

  private static String qualified(String address, String domain) {
    return address.indexOf('@') < 0 ? address + "@" + domain : address;
  }

  /** A display name as RFC 5322 allows it: bare when it is atoms and spaces, else quoted. */
  private static String quotedPhrase(String name) {
    if (name.matches("[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+")) {
      return name;
    }
    return "\"" + name.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
