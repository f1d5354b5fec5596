package org.postern.config;

/**
 * One listening socket: {@code listeners: { smtp: { address: 127.0.0.1, port: 2525 } }}. The name
 * is visible to ACLs as {@code $received_listener}; the port as {@code $received_port}.
 */
public record ListenerConfig(String name, String address, int port) {
}
