package org.postern.auth;

import org.postern.config.AuthenticatorConfig;
import org.postern.config.LocalUsers;
import org.postern.config.PosternConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * What {@code -bV} warns about in {@code conf/passwd}: entries whose scheme is unknown (they can
 * never log in: {@code {SHA512-CRYPT}} and {@code {ARGON2ID}} used to pass -bV silently), and
 * entries whose scheme cannot serve a mechanism the authenticators advertise (a client that picks
 * that mechanism gets 535 with the right password).
 */
public final class PasswdSchemeAudit {
  private PasswdSchemeAudit() {
  }

  /** One line per problem, {@code file:line: user: what}; empty when every entry serves every mechanism. */
  public static List<String> warnings(PosternConfig config) {
    LocalUsers users = config.users();
    List<String> out = new ArrayList<>();
    for (LocalUsers.Account a : users.accounts()) {
      if (a.secret().isEmpty()) {
        // No password: a mailbox that is not meant to log in.
        continue;
      }
      String where = users.passwdFile() + ":" + a.line() + ": " + a.name() + ": ";
      if (!PasswordSchemes.isSupported(a.scheme())) {
        out.add(where + "unknown password scheme {" + a.scheme() + "}: this user can never log in");
        continue;
      }
      List<String> unserved = new ArrayList<>();
      for (AuthenticatorConfig authenticator : config.auth().authenticators()) {
        if (!PasswordSchemes.serves(a.scheme(), authenticator.publicName())) {
          unserved.add(authenticator.publicName() + " (authenticator " + authenticator.name() + ")");
        }
      }
      if (!unserved.isEmpty()) {
        out.add(where + "{" + a.scheme() + "} cannot serve " + String.join(", ", unserved)
            + ": clients that choose it get 535 with the right password; `postern passwd` makes a"
            + " {SCRAM-SHA-256} entry, which serves PLAIN, LOGIN and SCRAM-SHA-256");
      }
    }
    return out;
  }
}
