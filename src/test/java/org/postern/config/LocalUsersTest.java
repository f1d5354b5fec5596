package org.postern.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** conf/passwd and conf/aliases: parsing, refusals with file/line/name, and alias resolution. */
class LocalUsersTest {

  private static LocalUsers users(String passwd, String aliases) throws ConfigException {
    return LocalUsers.parse("conf/passwd", passwd, "conf/aliases", aliases);
  }

  private static ConfigException refused(String passwd, String aliases) {
    return assertThrows(ConfigException.class, () -> users(passwd, aliases));
  }

  // --- passwd ---------------------------------------------------------------------------------

  @Test
  void passwdSchemesPasswordsAndComments() throws Exception {
    LocalUsers u = users(String.join("\n",
        "# Local mailboxes",
        "",
        "alice:{PLAIN}alice-secret",
        "   # indented comment",
        "bob:{plain}bob-secret:1000:1000::/home/bob::",
        "carol:{SHA512-CRYPT}$6$salt$hash",
        "admin:",
        "nopass",
        ""), null);
    LocalUsers.Account alice = u.account("alice");
    assertEquals("PLAIN", alice.scheme());
    assertEquals("alice-secret", alice.secret());
    assertEquals("PLAIN", u.account("bob").scheme(), "scheme is upper-cased");
    assertEquals("bob-secret", u.account("bob").secret(), "extra passwd-file fields are not part of the password");
    assertEquals("SHA512-CRYPT", u.account("carol").scheme());
    assertEquals("$6$salt$hash", u.account("carol").secret());
    LocalUsers.Account admin = u.account("admin");
    assertNotNull(admin, "a user with no password still has a mailbox");
    assertEquals("", admin.scheme());
    assertEquals("", admin.secret());
    assertNotNull(u.account("nopass"));
    assertTrue(u.exists("admin"));
    assertFalse(u.exists("# Local mailboxes"));
    assertNull(u.account("nobody"));
  }

  @Test
  void passwdWithCrlfLineEnds() throws Exception {
    LocalUsers u = users("alice:{PLAIN}a\r\nbob:{PLAIN}b\r\n", null);
    assertEquals("a", u.account("alice").secret());
    assertEquals("b", u.account("bob").secret());
  }

  @Test
  void passwdNamesAreCaseless() throws Exception {
    LocalUsers u = users("Alice:{PLAIN}x\n", null);
    assertTrue(u.exists("alice"));
    assertTrue(u.exists("ALICE"));
    assertEquals("alice", u.account("aLiCe").name());
  }

  @Test
  void passwdDuplicateUserIsRefusedAtSecondLine() {
    ConfigException e = refused("alice:{PLAIN}a\n# x\nALICE:{PLAIN}b\n", null);
    assertEquals("conf/passwd", e.file());
    assertEquals(3, e.line());
    assertEquals("alice", e.option());
    assertTrue(e.getMessage().startsWith("conf/passwd:3: alice: "), e.getMessage());
  }

  @Test
  void passwdPasswordWithoutSchemeIsRefused() {
    ConfigException e = refused("alice:{PLAIN}a\nbob:hunter2\n", null);
    assertEquals(2, e.line());
    assertEquals("bob", e.option());
    assertFalse(e.getMessage().contains("hunter2"), "the refusal must not echo the password: " + e.getMessage());
  }

  @Test
  void passwdUnterminatedSchemeIsRefused() {
    ConfigException e = refused("alice:{PLAINsecret\n", null);
    assertEquals(1, e.line());
    assertEquals("alice", e.option());
    assertFalse(e.getMessage().contains("secret"), e.getMessage());
  }

  @Test
  void passwdLineWithoutColonIsRefusedWithoutEchoingIt() {
    ConfigException e = refused("alice{PLAIN}hunter2\n", null);
    assertEquals(1, e.line());
    assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
  }

  @Test
  void passwdInvalidUserNameIsRefused() {
    ConfigException e = refused("alice:{PLAIN}a\n\nal ice:{PLAIN}b\n", null);
    assertEquals("conf/passwd", e.file());
    assertEquals(3, e.line());
    assertTrue(e.getMessage().contains("al ice"), e.getMessage());
  }

  @Test
  void accountToStringNeverShowsTheSecret() throws Exception {
    LocalUsers u = users("alice:{PLAIN}topsecret-42\n", null);
    LocalUsers.Account a = u.account("alice");
    assertFalse(a.toString().contains("topsecret-42"), a.toString());
    assertTrue(a.toString().contains("alice"), a.toString());
    assertFalse(new LocalUsers.Account("x", "PLAIN", "s3cr3t", 1).toString().contains("s3cr3t"));
  }

  // --- aliases --------------------------------------------------------------------------------

  @Test
  void aliasesWithContinuationQuotesAndComments() throws Exception {
    LocalUsers u = users("alice:\nbob:\ncarol:\n", String.join("\n",
        "# /etc/aliases format",
        "postmaster: alice",
        "",
        "staff: alice,",
        "  bob,",
        "\tcarol",
        "# comment between entries",
        "quoted: \"alice\", \"bob@remote.example\"",
        "Team : Alice , bob",
        ""));
    assertEquals(List.of("alice"), u.aliasMembers("postmaster"));
    assertEquals(List.of("alice", "bob", "carol"), u.aliasMembers("staff"));
    assertEquals(List.of("alice", "bob@remote.example"), u.aliasMembers("quoted"));
    assertEquals(List.of("Alice", "bob"), u.aliasMembers("team"));
    assertTrue(u.isAlias("STAFF"));
    assertFalse(u.isAlias("alice"));
    assertFalse(u.exists("# comment between entries"));
    assertEquals(List.of(), u.aliasMembers("nobody"));
  }

  @Test
  void aliasesWithCrlfAndLastLineWithoutNewline() throws Exception {
    LocalUsers u = users("alice:\n", "a: alice\r\nb: alice,\r\n  a\r\nc: alice");
    assertEquals(List.of("alice"), u.aliasMembers("a"));
    assertEquals(List.of("alice", "a"), u.aliasMembers("b"));
    assertEquals(List.of("alice"), u.aliasMembers("c"));
  }

  @Test
  void aliasRefusals() {
    ConfigException pipe = refused("", "postmaster: admin\nlog: |/usr/bin/logger\n");
    assertEquals("conf/aliases", pipe.file());
    assertEquals(2, pipe.line());
    assertEquals("log", pipe.option());

    ConfigException file = refused("", "archive: /var/mail/archive\n");
    assertEquals(1, file.line());
    assertEquals("archive", file.option());

    ConfigException include = refused("", "# x\nlist: :include:/etc/list\n");
    assertEquals(2, include.line());

    ConfigException twice = refused("", "a: x\nb: y\nA: z\n");
    assertEquals(3, twice.line());
    assertEquals("a", twice.option());

    ConfigException noColon = refused("", "a: x\njust words\n");
    assertEquals(2, noColon.line());

    ConfigException empty = refused("", "a: x\nb:\n");
    assertEquals(2, empty.line());
    assertEquals("b", empty.option());

    ConfigException badMember = refused("", "a: <x@example.org>\n");
    assertEquals(1, badMember.line());
  }

  // --- resolve --------------------------------------------------------------------------------

  @Test
  void resolvePlainMailbox() throws Exception {
    LocalUsers u = users("alice:\n", "");
    LocalUsers.Resolution r = u.resolve("Alice");
    assertEquals(List.of("alice"), r.mailboxes());
    assertEquals(List.of(), r.remoteAddresses());
    assertEquals(List.of(), r.unknown());
  }

  @Test
  void resolveNestedAliases() throws Exception {
    LocalUsers u = users("alice:\nbob:\ncarol:\n", String.join("\n",
        "postmaster: admins",
        "admins: alice, ops",
        "ops: bob, CAROL, alice",
        ""));
    LocalUsers.Resolution r = u.resolve("postmaster");
    assertEquals(List.of("alice", "bob", "carol"), r.mailboxes());
    assertEquals(List.of(), r.unknown());
  }

  @Test
  void resolveLoopTerminates() throws Exception {
    LocalUsers u = users("alice:\n", "a: b\nb: a\n");
    LocalUsers.Resolution r = assertTimeoutPreemptively(Duration.ofSeconds(2), () -> u.resolve("a"));
    assertEquals(List.of(), r.mailboxes());
    assertEquals(List.of(), r.remoteAddresses());

    LocalUsers withMember = users("alice:\n", "a: b, alice\nb: c\nc: a\n");
    LocalUsers.Resolution r2 = assertTimeoutPreemptively(Duration.ofSeconds(2), () -> withMember.resolve("b"));
    assertEquals(List.of("alice"), r2.mailboxes());
  }

  @Test
  void resolveLoopBackToAUserDeliversToTheUser() throws Exception {
    LocalUsers u = users("a:\n", "a: b\nb: a\n");
    assertEquals(List.of("a"), u.resolve("a").mailboxes());
    assertTimeoutPreemptively(Duration.ofSeconds(2), () -> u.resolve("b"));
  }

  @Test
  void rootAliasIncludingRootDeliversToRootsMailbox() throws Exception {
    LocalUsers u = users("root:\nadmin:\n", "root: root, admin\n");
    LocalUsers.Resolution r = u.resolve("root");
    assertEquals(List.of("root", "admin"), r.mailboxes());
    assertEquals(List.of(), r.unknown());
  }

  @Test
  void aliasShadowsAMailboxOfTheSameNameUnlessItIncludesItself() throws Exception {
    LocalUsers u = users("root:\nadmin:\n", "root: admin\n");
    assertEquals(List.of("admin"), u.resolve("root").mailboxes());
  }

  @Test
  void remoteMembersAreReturnedSeparately() throws Exception {
    LocalUsers u = users("alice:\n", "list: alice, bob@remote.example, sub\nsub: Carol@Other.Example, alice\n");
    LocalUsers.Resolution r = u.resolve("list");
    assertEquals(List.of("alice"), r.mailboxes());
    assertEquals(List.of("bob@remote.example", "Carol@Other.Example"), r.remoteAddresses());
    assertEquals(List.of(), r.unknown());
  }

  @Test
  void unknownNamesAreReported() throws Exception {
    LocalUsers u = users("alice:\n", "list: alice, ghost, phantom\n");
    LocalUsers.Resolution r = u.resolve("list");
    assertEquals(List.of("alice"), r.mailboxes());
    assertEquals(List.of("ghost", "phantom"), r.unknown());
    assertEquals(List.of("nobody"), u.resolve("NoBody").unknown());
    assertEquals(List.of(), u.resolve("nobody").mailboxes());
  }

  @Test
  void existsIsCaseless() throws Exception {
    LocalUsers u = users("alice:{PLAIN}x\n", "PostMaster: alice\n");
    assertTrue(u.exists("ALICE"));
    assertTrue(u.exists("postmaster"));
    assertTrue(u.exists("POSTMASTER"));
    assertFalse(u.exists("bob"));
  }

  @Test
  void emptyAndMissingFiles() throws Exception {
    LocalUsers u = users(null, null);
    assertFalse(u.exists("admin"));
    assertFalse(LocalUsers.empty().exists("admin"));
    assertEquals(List.of("x"), LocalUsers.empty().resolve("x").unknown());
  }

  @Test
  void shippedFilesParse() throws Exception {
    String passwd = java.nio.file.Files.readString(java.nio.file.Path.of("conf/passwd"));
    String aliases = java.nio.file.Files.readString(java.nio.file.Path.of("conf/aliases"));
    LocalUsers u = users(passwd, aliases);
    for (String name : List.of("postmaster", "abuse", "hostmaster", "root")) {
      assertEquals(List.of("admin"), u.resolve(name).mailboxes(), name);
    }
  }
}
