package org.postern.config;

import java.util.ArrayList;
import java.util.List;

/**
 * The client side of one {@code authenticators:} entry (Exim's {@code client_*} options), used by
 * the smtp transport to authenticate to a remote server. The server-side options of the same
 * entry are read by {@link ConfigLoader} into {@link AuthenticatorConfig}; an entry may carry
 * both, either or (server only) none of the client options.
 *
 * <ul>
 *   <li>{@code plaintext} with {@code public_name: PLAIN}: {@code client_send} items are joined
 *       with NUL and sent as one base64 string ({@code ": user : secret"} is {@code \0user\0secret};
 *       Exim's {@code ^user^secret} form means the same, {@code ^} standing for NUL);</li>
 *   <li>{@code plaintext} with {@code public_name: LOGIN}: the first item is the initial response
 *       (empty = none), each further item answers the next 334 prompt;</li>
 *   <li>{@code cram_md5}: {@code client_name} and {@code client_secret}.</li>
 * </ul>
 *
 * {@link #toString()} never shows credentials, so a record printed by mistake leaks nothing.
 *
 * @param name       the entry's name, shown as {@code A=name} in the delivery log
 * @param driver     {@code plaintext} or {@code cram_md5}
 * @param publicName the SASL mechanism used: PLAIN, LOGIN or CRAM-MD5
 * @param send       plaintext: the {@code client_send} items; empty for cram_md5
 * @param user       cram_md5: {@code client_name}; null for plaintext
 * @param secret     cram_md5: {@code client_secret}; null for plaintext
 */
public record ClientAuthenticator(String name, String driver, String publicName, List<String> send, String user,
                                  String secret) {

  /** Client option names, so that the server-side reader does not refuse them as unknown. */
  public static final List<String> OPTIONS = List.of("client_send", "client_name", "client_secret");

  public ClientAuthenticator {
    send = List.copyOf(send);
  }

  /**
   * The client authenticators of an {@code authenticators:} section, in the order written (the
   * order in which they are tried, as in Exim). Entries without client options are skipped.
   *
   * @param section the {@code authenticators:} mapping, or null
   */
  public static List<ClientAuthenticator> parseAll(YamlSection section) throws ConfigException {
    List<ClientAuthenticator> out = new ArrayList<>();
    if (section == null) {
      return out;
    }
    for (String name : section.keys()) {
      YamlSection entry = section.section(name);
      if (entry == null) {
        throw section.error(name, "expected { driver: ..., public_name: ... }");
      }
      ClientAuthenticator a = parse(name, entry);
      if (a != null) {
        out.add(a);
      }
    }
    return List.copyOf(out);
  }

  /** One entry, or null when it has no client options (a server-only authenticator). */
  public static ClientAuthenticator parse(String name, YamlSection entry) throws ConfigException {
    if (OPTIONS.stream().noneMatch(entry::has)) {
      return null;
    }
    String driver = entry.string("driver", null);
    String publicName = entry.string("public_name", null);
    if (driver == null) {
      throw entry.error("driver", "expected plaintext or cram_md5, got nothing");
    }
    switch (driver) {
      case "plaintext" -> {
        if (!"PLAIN".equals(publicName) && !"LOGIN".equals(publicName)) {
          throw entry.error("public_name", "a plaintext client authenticator needs public_name PLAIN or LOGIN, got "
              + (publicName == null ? "nothing" : "\"" + publicName + "\""));
        }
        for (String option : List.of("client_name", "client_secret")) {
          if (entry.has(option)) {
            throw entry.error(option, "is a cram_md5 option; plaintext uses client_send");
          }
        }
        if (!entry.has("client_send")) {
          throw entry.error("client_send", "missing: a plaintext client authenticator needs client_send");
        }
        List<String> items = entry.isSequence("client_send") ? entry.list("client_send", List.of())
            : splitList(entry.string("client_send", ""));
        if (items.stream().allMatch(String::isEmpty)) {
          throw entry.error("client_send", "no credentials given");
        }
        return new ClientAuthenticator(name, driver, publicName, items, null, null);
      }
      case "cram_md5" -> {
        if (publicName != null && !publicName.equals("CRAM-MD5")) {
          throw entry.error("public_name", "cram_md5 cannot serve " + publicName);
        }
        if (entry.has("client_send")) {
          throw entry.error("client_send", "is a plaintext option; cram_md5 uses client_name and client_secret");
        }
        String user = entry.string("client_name", null);
        String secret = entry.string("client_secret", null);
        if (user == null || user.isEmpty()) {
          throw entry.error("client_name", "missing: cram_md5 needs client_name");
        }
        if (secret == null || secret.isEmpty()) {
          throw entry.error("client_secret", "missing: cram_md5 needs client_secret");
        }
        return new ClientAuthenticator(name, driver, "CRAM-MD5", List.of(), user, secret);
      }
      default -> throw entry.error("driver", "client authentication supports plaintext or cram_md5, got \""
          + driver + "\"");
    }
  }

  /** Exim list syntax: ':' separates items, '::' is a literal colon, white space around items is dropped. */
  static List<String> splitList(String spec) {
    List<String> items = new ArrayList<>();
    StringBuilder item = new StringBuilder();
    for (int i = 0; i < spec.length(); i++) {
      char c = spec.charAt(i);
      if (c == ':' && i + 1 < spec.length() && spec.charAt(i + 1) == ':') {
        item.append(':');
        i++;
      } else if (c == ':') {
        items.add(item.toString().strip());
        item.setLength(0);
      } else {
        item.append(c);
      }
    }
    items.add(item.toString().strip());
    return items;
  }

  @Override
  public String toString() {
    return "ClientAuthenticator[" + name + ", " + driver + ", " + publicName + ", credentials hidden]";
  }
}
