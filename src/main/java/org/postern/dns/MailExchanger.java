package org.postern.dns;

/** One MX record: lower {@code preference} is tried first; {@code exchange} is a host name. */
public record MailExchanger(int preference, String exchange) {
}
