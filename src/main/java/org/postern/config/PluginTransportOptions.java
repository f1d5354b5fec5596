package org.postern.config;

import org.postern.bus.Addresses;

import java.time.Duration;

/**
 * A transport served by a plugin ({@code driver: plugin}): the queue sends it the same
 * {@code DeliveryRequest} as to {@code smtp} and {@code maildir}, as JSON, on {@code address}, and
 * reads the same per-recipient {@code DeliveryResult}. No answer within {@code timeout} defers every
 * recipient of the request (the queue retries them as it retries any transport's deferrals).
 *
 * @param name    the transport's name ({@code T=} in the main log)
 * @param address {@code address}: the bus address its plugin consumes ({@code postern.deliver.<name>})
 * @param timeout {@code timeout}: how long one delivery request may take (5m)
 * @param port    {@code port}: the port of the hosts a manualroute or dnslookup router finds for it (25)
 */
public record PluginTransportOptions(String name, String address, Duration timeout, int port) {

  static PluginTransportOptions parse(String name, YamlSection section) throws ConfigException {
    String address = section.string("address", Addresses.DELIVER_PREFIX + name);
    if (address.isBlank() || address.chars().anyMatch(Character::isWhitespace)) {
      throw section.error("address", "an event-bus address, without blanks (e.g. postern.deliver." + name + ")");
    }
    Duration timeout = section.duration("timeout", Duration.ofMinutes(5));
    if (timeout.isZero()) {
      throw section.error("timeout", "must be longer than 0s");
    }
    int port = section.integer("port", 25, 1, 65535);
    section.rejectUnknown();
    return new PluginTransportOptions(name, address, timeout, port);
  }
}
