package org.postern.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The local mailboxes ({@code conf/passwd}, Dovecot passwd-file format) and the aliases
 * ({@code conf/aliases}, {@code /etc/aliases} format). Local parts are caseless, as Exim treats
 * them for local domains by default.
 */
public final class LocalUsers {
  /**
   * One passwd entry. The secret stays inside; {@link #toString()} never shows it.
   *
   * @param line the entry's line in the passwd file, for warnings (-bV)
   */
  public record Account(String name, String scheme, String secret, int line) {
    @Override
    public String toString() {
      return "Account[" + name + ", " + scheme + "]";
    }
  }

  private final String passwdFile;
  private final Map<String, Account> accounts;
  private final Map<String, List<String>> aliases;

  private LocalUsers(String passwdFile, Map<String, Account> accounts, Map<String, List<String>> aliases) {
    this.passwdFile = passwdFile;
    this.accounts = Collections.unmodifiableMap(accounts);
    this.aliases = Collections.unmodifiableMap(aliases);
  }

  public static LocalUsers empty() {
    return new LocalUsers("passwd", Map.of(), Map.of());
  }

  public static LocalUsers parse(String passwdFile, String passwdText, String aliasesFile, String aliasesText)
      throws ConfigException {
    return new LocalUsers(passwdFile, parsePasswd(passwdFile, passwdText), parseAliases(aliasesFile, aliasesText));
  }

  /** The passwd file's name as shown in messages. */
  public String passwdFile() {
    return passwdFile;
  }

  /** Every passwd entry, in file order. */
  public java.util.Collection<Account> accounts() {
    return accounts.values();
  }

  /**
   * What a user name and its maildir folder may hold: ASCII letters, digits and {@code ._+=-} as
   * always, and for SMTPUTF8 local parts (RFC 6531) any Unicode letter, mark or digit; names are
   * kept as {@link #key} makes them, so a folder name is NFC-normalised, lower-case UTF-8.
   */
  public static final String MAILBOX_NAME = "[\\p{L}\\p{M}\\p{N}._+=-]+";

  /**
   * The form names are compared and folders named in: NFC (RFC 6532 3.1 asks for normalised
   * UTF-8; a client may send {@code ü} precomposed or as {@code u} + U+0308) and lower-case.
   */
  static String key(String name) {
    return java.text.Normalizer.normalize(name, java.text.Normalizer.Form.NFC).toLowerCase(Locale.ROOT);
  }

  /** True when mail for this local part can be accepted: a mailbox or an alias. */
  public boolean exists(String localPart) {
    String key = key(localPart);
    return accounts.containsKey(key) || aliases.containsKey(key);
  }

  public boolean isAlias(String localPart) {
    return aliases.containsKey(key(localPart));
  }

  public Account account(String name) {
    return accounts.get(key(name));
  }

  /** The members of one alias as written (for EXPN), or an empty list. */
  public List<String> aliasMembers(String localPart) {
    return aliases.getOrDefault(key(localPart), List.of());
  }

  /**
   * Resolves a local part to its final targets: local mailbox names (no '@') and remote addresses
   * (with '@'). Aliases nest; a name met again inside its own expansion is delivered to its own
   * mailbox if it has one (sendmail's {@code root: root, admin}), never expanded forever.
   * Names that are neither alias nor mailbox are returned in {@code unknown}.
   */
  public Resolution resolve(String localPart) {
    Set<String> mailboxes = new LinkedHashSet<>();
    Set<String> remote = new LinkedHashSet<>();
    Set<String> unknown = new LinkedHashSet<>();
    expand(key(localPart), new LinkedHashSet<>(), mailboxes, remote, unknown);
    return new Resolution(List.copyOf(mailboxes), List.copyOf(remote), List.copyOf(unknown));
  }

  /** The outcome of {@link #resolve}. */
  public record Resolution(List<String> mailboxes, List<String> remoteAddresses, List<String> unknown) {
  }

  private void expand(String name, Set<String> seen, Set<String> mailboxes, Set<String> remote, Set<String> unknown) {
    List<String> members = aliases.get(name);
    if (members == null || !seen.add(name)) {
      if (accounts.containsKey(name)) {
        mailboxes.add(name);
      } else if (members == null) {
        unknown.add(name);
      }
      return;
    }
    for (String m : members) {
      if (m.indexOf('@') >= 0) {
        remote.add(m);
      } else {
        expand(key(m), seen, mailboxes, remote, unknown);
      }
    }
    seen.remove(name);
  }

  private static Map<String, Account> parsePasswd(String file, String text) throws ConfigException {
    Map<String, Account> out = new LinkedHashMap<>();
    if (text == null) {
      return out;
    }
    String[] lines = text.split("\r?\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int colon = line.indexOf(':');
      String name = key(colon < 0 ? line : line.substring(0, colon));
      if (!name.matches(MAILBOX_NAME)) {
        // Without a colon the "name" may be a mistyped password: never echo it then.
        throw new ConfigException(file, i + 1, colon < 0 ? null : name,
            colon < 0 ? "no ':' after the user name" : "invalid user name (letters, digits, marks and ._+=- only)");
      }
      String rest = colon < 0 ? "" : line.substring(colon + 1);
      int end = rest.indexOf(':');
      String password = end < 0 ? rest : rest.substring(0, end);
      String scheme = "";
      String secret = password;
      if (password.startsWith("{")) {
        int close = password.indexOf('}');
        if (close < 0) {
          throw new ConfigException(file, i + 1, name, "unterminated {SCHEME} in password field");
        }
        scheme = password.substring(1, close).toUpperCase(Locale.ROOT);
        secret = password.substring(close + 1);
      } else if (!password.isEmpty()) {
        throw new ConfigException(file, i + 1, name, "password must start with a {SCHEME} such as {PLAIN}");
      }
      if (out.put(name, new Account(name, scheme, secret, i + 1)) != null) {
        throw new ConfigException(file, i + 1, name, "user listed twice");
      }
    }
    return out;
  }

  private static Map<String, List<String>> parseAliases(String file, String text) throws ConfigException {
    Map<String, List<String>> out = new LinkedHashMap<>();
    if (text == null) {
      return out;
    }
    String[] lines = text.split("\r?\n", -1);
    String current = null;
    int currentLine = 0;
    List<String> members = new ArrayList<>();
    for (int i = 0; i <= lines.length; i++) {
      String raw = i < lines.length ? lines[i] : "";
      boolean continuation = !raw.isEmpty() && Character.isWhitespace(raw.charAt(0)) && !raw.strip().isEmpty();
      if (continuation && current != null) {
        addMembers(file, i + 1, current, raw, members);
        continue;
      }
      if (current != null) {
        if (members.isEmpty()) {
          throw new ConfigException(file, currentLine, current, "alias has no members");
        }
        out.put(current, List.copyOf(members));
        current = null;
      }
      String line = raw.strip();
      if (i == lines.length || line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int colon = line.indexOf(':');
      if (colon <= 0) {
        throw new ConfigException(file, i + 1, null, "expected \"name: member, member\"");
      }
      String name = key(line.substring(0, colon).strip());
      if (out.containsKey(name)) {
        throw new ConfigException(file, i + 1, name, "alias defined twice");
      }
      current = name;
      currentLine = i + 1;
      members = new ArrayList<>();
      addMembers(file, i + 1, name, line.substring(colon + 1), members);
    }
    return out;
  }

  /** Adds the comma-separated members written on one line, refusing what Postern cannot deliver to. */
  private static void addMembers(String file, int line, String name, String value, List<String> members)
      throws ConfigException {
    for (String item : value.split(",")) {
      String m = item.strip();
      if (m.length() >= 2 && m.startsWith("\"") && m.endsWith("\"")) {
        m = m.substring(1, m.length() - 1).strip();
      }
      if (m.isEmpty()) {
        continue;
      }
      if (m.startsWith("|") || m.startsWith("/") || m.startsWith(":include:")) {
        throw new ConfigException(file, line, name,
            "pipe, file and :include: aliases are not supported (\"" + m + "\")");
      }
      if (!m.matches("[^\\s<>()\\[\\],;\\\\\"]+")) {
        throw new ConfigException(file, line, name, "bad alias member \"" + m + "\"");
      }
      members.add(m);
    }
  }

}
