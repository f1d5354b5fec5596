package org.postern.session;

import org.postern.smtp.MailPath;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Exim's submission mode ({@code control = submission}): a message from one of our own clients
 * gets the headers RFC 5322 requires and mail user agents sometimes omit, {@code Message-ID:},
 * {@code Date:} and {@code From:}. Messages relayed from elsewhere are never touched.
 */
final class SubmissionHeaders {
  private static final DateTimeFormatter RFC5322 = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss Z",
      Locale.ROOT);

  private SubmissionHeaders() {
  }

  /**
   * @param headers the message's header section as received
   * @param domain  the domain for a generated Message-ID: {@code submission/domain=} or the primary hostname
   */
  static List<String> missing(String headers, Transaction t, String id, String primaryHostname) {
    String domain = t.submissionDomain() != null && !t.submissionDomain().isEmpty() ? t.submissionDomain()
        : primaryHostname;
    List<String> out = new ArrayList<>();
    if (!has(headers, "Message-ID")) {
      out.add("Message-ID: <E" + id + "@" + domain + ">");
    }
    if (!has(headers, "Date")) {
      out.add("Date: " + RFC5322.format(ZonedDateTime.now()));
    }
    MailPath sender = t.sender();
    if (!has(headers, "From") && sender != null && !sender.address().isEmpty()) {
      out.add("From: " + sender.address());
    }
    return out;
  }

  private static boolean has(String headers, String name) {
    return Pattern.compile("(?im)^" + Pattern.quote(name) + "[ \\t]*:").matcher(headers).find();
  }
}
