package org.postern.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The admin HTTP listener ({@code AdminVerticle}): off unless {@code admin_listener} is set.
 * <pre>
 * admin_listener: { address: 127.0.0.1, port: 8025 }
 * admin_token_file: admin.token
 * </pre>
 * Without {@code admin_token_file} only loopback clients are served; with it every request needs
 * {@code Authorization: Bearer <token>}. The file is read again for every request (a new token is in
 * force at once); at load it must be readable and hold a token, or the configuration is refused.
 *
 * @param address   the IP address to bind ({@code *} is {@code 0.0.0.0}); null when off
 * @param tokenFile absolute, or null for loopback-only access without a token
 */
public record AdminSettings(String address, int port, Path tokenFile) {
  /** No admin listener. */
  public static final AdminSettings OFF = new AdminSettings(null, 0, null);

  public boolean enabled() {
    return address != null;
  }

  static AdminSettings parse(YamlSection main, Path base) throws ConfigException {
    String tokenOption = main.string("admin_token_file", null);
    YamlSection listener = main.section("admin_listener");
    if (listener == null) {
      if (tokenOption != null) {
        throw main.error("admin_token_file", "admin_token_file without admin_listener");
      }
      return OFF;
    }
    ListenerConfig bound = ListenerConfig.parse("admin", listener);
    Path tokenFile = null;
    if (tokenOption != null) {
      tokenFile = base.resolve(tokenOption).normalize();
      String token;
      try {
        token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
      } catch (IOException e) {
        throw main.error("admin_token_file", "cannot read " + tokenFile + ": " + e.getMessage());
      }
      if (token.isEmpty()) {
        throw main.error("admin_token_file", tokenFile + " holds no token");
      }
    }
    return new AdminSettings(bound.address(), bound.port(), tokenFile);
  }
}
