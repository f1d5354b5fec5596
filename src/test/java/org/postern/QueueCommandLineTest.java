package org.postern;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postern.queue.QueueListing;
import org.postern.spool.Envelope;
import org.postern.spool.MessageLock;
import org.postern.spool.Spool;
import org.postern.testing.ChildPostern;
import org.postern.testing.ChildPostern.Result;
import org.postern.testing.PosternTestServer;
import org.postern.testing.RecordingQueueFlushVerticle;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exim's queue flags ({@code -bp}, {@code -bpu}, {@code -bpc}, {@code -Mrm}, {@code -Mf},
 * {@code -Mt}, {@code -Mg}, {@code -Mvh}, {@code -Mvb}, {@code -Mvc}, {@code -Mvl}, {@code -q},
 * {@code -qf}, {@code -R}, {@code -M}) in a child JVM, on a spool filled by a real server with
 * {@code queue_only} that is stopped before the commands run.
 */
class QueueCommandLineTest {
  private static final String USER = System.getProperty("user.name");
  private static final String UNKNOWN = "1zzzzz-zzzzzz-zzzz";

  private PosternTestServer server;
  private Path config;
  private Spool spool;
  /** Ids of the two queued messages: from sender@example.net to alice and bob, and from <> to alice. */
  private String first;
  private String second;

  @BeforeEach
  void setUp() throws Exception {
    server = PosternTestServer.create().option("queue_only", "true").start();
    first = accept("<sender@example.net>", "alice@test.example", "bob@test.example");
    second = accept("<>", "alice@test.example");
    server.vertx().close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    config = server.confDir().resolve("postern.yaml");
    spool = new Spool(server.root().resolve("spool"));
  }

  @AfterEach
  void tearDown() throws Exception {
    server.close();
  }

  private String accept(String sender, String... recipients) throws Exception {
    return server.accept(sender, recipients);
  }

  private Result postern(String... args) throws Exception {
    return ChildPostern.run(server.root(), config, "", args);
  }

  private List<Envelope> envelopes() throws Exception {
    List<Envelope> out = new ArrayList<>();
    for (String id : spool.list()) {
      out.add(spool.readEnvelope(id));
    }
    return out;
  }

  private String mainLog() throws Exception {
    Path log = server.root().resolve("log").resolve("mainlog");
    return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
  }

  /** The listing the child printed, compared with QueueListing's at both ends of its run (ages in minutes). */
  private void assertListing(Result r, boolean all) throws Exception {
    Instant before = Instant.now();
    List<Envelope> envelopes = envelopes();
    String early = all ? QueueListing.list(envelopes, before) : QueueListing.listUndelivered(envelopes, before);
    String late = all ? QueueListing.list(envelopes, Instant.now()) : QueueListing.listUndelivered(envelopes, Instant.now());
    assertEquals(0, r.exit(), r::toString);
    assertTrue(r.stdout().equals(early) || r.stdout().equals(late), () -> "expected\n" + early + "\n" + r);
  }

  // ------------------------------------------------------------------ -bp, -bpu, -bpc

  @Test
  void bpListsTheQueueInEximsFormat() throws Exception {
    Result r = postern("-bp");
    assertListing(r, true);
    String[] lines = r.stdout().split("\n", -1);
    assertTrue(lines[0].matches(" 0m +\\S+ " + first + " <sender@example.net>"), r::toString);
    assertEquals("          alice@test.example", lines[1], r::toString);
    assertEquals("          bob@test.example", lines[2], r::toString);
    assertEquals("", lines[3], r::toString);
    assertTrue(lines[4].matches(" 0m +\\S+ " + second + " <>"), r::toString);
    assertEquals("          alice@test.example", lines[5], r::toString);
  }

  @Test
  void bpcCountsAndBpuLeavesOutDeliveredRecipients() throws Exception {
    Result count = postern("-bpc");
    assertEquals(0, count.exit(), count::toString);
    assertEquals("2\n", count.stdout(), count::toString);
    Envelope e = spool.readEnvelope(first);
    List<Envelope.Recipient> rcpts = new ArrayList<>(e.recipients());
    rcpts.set(1, rcpts.get(1).withState(Envelope.Recipient.State.DELIVERED));
    spool.writeEnvelope(e.withRecipients(rcpts));

    Result all = postern("-bp");
    assertListing(all, true);
    assertTrue(all.stdout().contains("\n        D bob@test.example\n"), all::toString);
    Result undelivered = postern("-bpu");
    assertListing(undelivered, false);
    assertFalse(undelivered.stdout().contains("bob@test.example"), undelivered::toString);
    assertTrue(undelivered.stdout().contains("          alice@test.example\n"), undelivered::toString);
  }

  @Test
  void emptyQueueListsNothing() throws Exception {
    spool.remove(first);
    spool.remove(second);
    Result r = postern("-bp");
    assertEquals(0, r.exit(), r::toString);
    assertEquals("", r.stdout(), r::toString);
    Result c = postern("-bpc");
    assertEquals("0\n", c.stdout(), c::toString);
  }

  // ------------------------------------------------------------------ -Mf, -Mt

  @Test
  void freezeAndThawRewriteTheEnvelopeAndAreLogged() throws Exception {
    Result f = postern("-Mf", first);
    assertEquals(0, f.exit(), f::toString);
    assertEquals("Message " + first + " is now frozen\n", f.stdout(), f::toString);
    assertTrue(spool.readEnvelope(first).frozen());
    assertFalse(spool.readEnvelope(second).frozen());
    Result listed = postern("-bp");
    assertListing(listed, true);
    assertTrue(listed.stdout().contains(first + " <sender@example.net> *** frozen ***\n"), listed::toString);
    assertFalse(listed.stdout().contains(second + " <> *** frozen ***"), listed::toString);
    assertTrue(mainLog().contains(" " + first + " frozen by " + USER + "\n"), this::logOrEmpty);

    Result again = postern("-Mf", first);
    assertEquals(1, again.exit(), again::toString);
    assertEquals("postern: message " + first + " is already frozen\n", again.stderr(), again::toString);

    Result t = postern("-Mt", first);
    assertEquals(0, t.exit(), t::toString);
    assertEquals("Message " + first + " is no longer frozen\n", t.stdout(), t::toString);
    assertFalse(spool.readEnvelope(first).frozen());
    Result cleared = postern("-bp");
    assertListing(cleared, true);
    assertFalse(cleared.stdout().contains("*** frozen ***"), cleared::toString);
    assertTrue(mainLog().contains(" " + first + " unfrozen by " + USER + "\n"), this::logOrEmpty);

    Result notFrozen = postern("-Mt", first);
    assertEquals(1, notFrozen.exit(), notFrozen::toString);
    assertEquals("postern: message " + first + " is not frozen\n", notFrozen.stderr(), notFrozen::toString);
  }

  // ------------------------------------------------------------------ -Mrm

  @Test
  void removeDeletesTheFilesAndLogsCompleted() throws Exception {
    Result r = postern("-Mrm", first);
    assertEquals(0, r.exit(), r::toString);
    assertEquals("Message " + first + " has been removed\n", r.stdout(), r::toString);
    assertFalse(Files.exists(spool.envelopeFile(first)));
    assertFalse(Files.exists(spool.dataFile(first)));
    assertTrue(Files.exists(spool.envelopeFile(second)));
    String log = mainLog();
    assertTrue(log.contains(" " + first + " removed by " + USER + "\n"), log);
    assertTrue(log.indexOf(first + " Completed") > log.indexOf(first + " removed by"), log);

    Result listed = postern("-bp");
    assertListing(listed, true);
    assertFalse(listed.stdout().contains(first), listed::toString);
    assertTrue(listed.stdout().contains(second), listed::toString);
  }

  @Test
  void unknownIdsAreNamedAndTheOthersStillHandled() throws Exception {
    Result r = postern("-Mrm", UNKNOWN, first);
    assertEquals(1, r.exit(), r::toString);
    assertEquals("postern: message " + UNKNOWN + ": no such message\n", r.stderr(), r::toString);
    assertEquals("Message " + first + " has been removed\n", r.stdout(), r::toString);
    assertFalse(Files.exists(spool.envelopeFile(first)));

    Result gone = postern("-Mrm", first);
    assertEquals(1, gone.exit(), gone::toString);
    assertEquals("postern: message " + first + ": no such message\n", gone.stderr(), gone::toString);
    for (String mode : List.of("-Mf", "-Mt")) {
      Result m = postern(mode, UNKNOWN);
      assertEquals(1, m.exit(), m::toString);
      assertEquals("postern: message " + UNKNOWN + ": no such message\n", m.stderr(), m::toString);
    }
  }

  @Test
  void lockedMessageIsNeitherRemovedNorFrozen() throws Exception {
    try (MessageLock held = MessageLock.tryLock(spool, first).orElseThrow()) {
      Result r = postern("-Mrm", first, second);
      assertEquals(1, r.exit(), r::toString);
      assertEquals("postern: message " + first + " is locked\n", r.stderr(), r::toString);
      assertEquals("Message " + second + " has been removed\n", r.stdout(), r::toString);
      assertTrue(Files.exists(spool.envelopeFile(first)));
      assertTrue(Files.exists(spool.dataFile(first)));
      Result f = postern("-Mf", first);
      assertEquals(1, f.exit(), f::toString);
      assertEquals("postern: message " + first + " is locked\n", f.stderr(), f::toString);
      assertFalse(spool.readEnvelope(first).frozen());
      assertEquals(first, held.id());
    }
    Result after = postern("-Mrm", first);
    assertEquals(0, after.exit(), after::toString);
    assertFalse(Files.exists(spool.envelopeFile(first)));
  }

  // ------------------------------------------------------------------ -Mvh, -Mvb, -Mvc, -Mvl

  @Test
  void viewsPrintTheHeaderSectionTheBodyAndTheWholeMessageAsSpooled() throws Exception {
    String spooled = Files.readString(spool.dataFile(first), StandardCharsets.UTF_8);
    int blank = spooled.indexOf("\r\n\r\n");
    assertTrue(blank > 0, spooled);

    Result h = postern("-Mvh", first);
    assertEquals(0, h.exit(), h::toString);
    assertEquals(spooled.substring(0, blank + 2), h.stdout(), h::toString);
    assertTrue(h.stdout().startsWith("Received: from client.example "), h::toString);
    assertTrue(h.stdout().endsWith("\r\nSubject: queued\r\n"), h::toString);

    Result b = postern("-Mvb", first);
    assertEquals(0, b.exit(), b::toString);
    assertEquals("body\r\n", b.stdout(), b::toString);

    Result c = postern("-Mvc", first);
    assertEquals(0, c.exit(), c::toString);
    assertEquals(spooled, c.stdout(), c::toString);
    assertEquals(h.stdout() + "\r\n" + b.stdout(), c.stdout());

    Result both = postern("-Mvb", first, second);
    assertEquals(0, both.exit(), both::toString);
    assertEquals("body\r\nbody\r\n", both.stdout(), both::toString);
    assertEquals("", both.stderr(), both::toString);
    assertEquals(List.of(first, second), spool.list(), "looking changes nothing");
    assertFalse(spool.readEnvelope(first).frozen());
  }

  /**
   * A message with RFC 3461 values: -Mvh puts Exim's -H lines for them (-dsn_envid as xtext,
   * -dsn_ret 2 for HDRS, the counted recipient list with orcpt, length, flags) and a blank line
   * before the header section, which follows byte for byte as before.
   */
  @Test
  void mvhShowsTheDsnValuesAsEximsHFileDoes() throws Exception {
    try (PosternTestServer dsn = PosternTestServer.create().option("queue_only", "true").start()) {
      String id = org.postern.testing.SmtpTestClient.submit(dsn.port(), "<sender@example.net> RET=HDRS ENVID=QQ+2B1",
          "Subject: dsn\r\n\r\nbody\r\n", "<alice@test.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Al+2Bice@test.example",
          "<bob@test.example>", "<postmaster@test.example> NOTIFY=NEVER");
      dsn.vertx().close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      Path data = new Spool(dsn.root().resolve("spool")).dataFile(id);
      String spooled = Files.readString(data, StandardCharsets.UTF_8);
      String headers = spooled.substring(0, spooled.indexOf("\r\n\r\n") + 2);
      Result h = ChildPostern.run(dsn.root(), dsn.confDir().resolve("postern.yaml"), "", "-Mvh", id);
      assertEquals(0, h.exit(), h::toString);
      assertEquals("-dsn_envid QQ+2B1\n"
          + "-dsn_ret 2\n"
          + "3\n"
          + "alice@test.example rfc822;Al+2Bice@test.example 28,12  0,-1#3\n"
          + "bob@test.example\n"
          + "postmaster@test.example  0,2  0,-1#3\n"
          + "\n" + headers, h.stdout(), h::toString);
    }
  }

  @Test
  void mvlPrintsTheMainLogLinesOfThatMessageUnchanged() throws Exception {
    assertEquals(0, postern("-Mf", first, second).exit());
    assertEquals(0, postern("-Mt", first).exit());
    List<String> expected = mainLog().lines().filter(l -> l.matches("\\S+ \\S+ " + first + " .*")).toList();
    assertEquals(2, expected.size(), this::logOrEmpty);
    assertTrue(expected.get(0).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d " + first + " frozen by " + USER),
        this::logOrEmpty);
    assertTrue(expected.get(1).endsWith(" " + first + " unfrozen by " + USER), this::logOrEmpty);

    Result r = postern("-Mvl", first);
    assertEquals(0, r.exit(), r::toString);
    assertEquals(String.join("\n", expected) + "\n", r.stdout(), r::toString);
    assertFalse(r.stdout().contains(second), r::toString);

    Result gone = postern("-Mvl", UNKNOWN, second);
    assertEquals(1, gone.exit(), gone::toString);
    assertEquals("postern: message " + UNKNOWN + ": no such message\n", gone.stderr(), gone::toString);
    assertTrue(gone.stdout().endsWith(" " + second + " frozen by " + USER + "\n"), gone::toString);
  }

  @Test
  void viewsOfUnknownIdsSayNoSuchMessageAndShowTheOthers() throws Exception {
    for (String view : List.of("-Mvh", "-Mvb", "-Mvc", "-Mvl")) {
      Result r = postern(view, UNKNOWN, first);
      assertEquals(1, r.exit(), () -> view + "\n" + r);
      assertEquals("postern: message " + UNKNOWN + ": no such message\n", r.stderr(), () -> view + "\n" + r);
    }
    // An envelope whose content went (removed between the check and the read) is gone all the same.
    Files.delete(spool.dataFile(first));
    Result r = postern("-Mvc", first);
    assertEquals(1, r.exit(), r::toString);
    assertEquals("postern: message " + first + ": no such message\n", r.stderr(), r::toString);
    assertEquals("", r.stdout(), r::toString);
  }

  @Test
  void aMessageBeingDeliveredCanStillBeLookedAt() throws Exception {
    try (MessageLock held = MessageLock.tryLock(spool, first).orElseThrow()) {
      Result r = postern("-Mvb", first);
      assertEquals(0, r.exit(), r::toString);
      assertEquals("body\r\n", r.stdout(), r::toString);
      assertEquals(first, held.id());
    }
  }

  // ------------------------------------------------------------------ -Mg

  /** The main-log lines of these messages in the order written, without their timestamps. */
  private List<String> logged(String... ids) throws Exception {
    return mainLog().lines().map(l -> l.split(" ", 3)).filter(f -> f.length == 3).map(f -> f[2])
        .filter(l -> java.util.Arrays.stream(ids).anyMatch(id -> l.startsWith(id + " "))).toList();
  }

  /** The one message on the spool that was not there before. */
  private String newMessage(List<String> before) throws Exception {
    List<String> now = new ArrayList<>(spool.list());
    now.removeAll(before);
    assertEquals(1, now.size(), now::toString);
    return now.get(0);
  }

  private static jakarta.mail.internet.MimeMessage parse(Path file) throws Exception {
    try (var in = Files.newInputStream(file)) {
      return new jakarta.mail.internet.MimeMessage(jakarta.mail.Session.getInstance(new java.util.Properties()), in);
    }
  }

  @Test
  void giveUpFailsThePendingRecipientsBouncesToTheSenderAndRemovesTheMessage() throws Exception {
    Envelope e = spool.readEnvelope(first);
    List<Envelope.Recipient> rcpts = new ArrayList<>(e.recipients());
    rcpts.set(1, rcpts.get(1).withState(Envelope.Recipient.State.DELIVERED));
    spool.writeEnvelope(e.withRecipients(rcpts));

    Result r = postern("-Mg", first);
    assertEquals(0, r.exit(), r::toString);
    String bounce = newMessage(List.of(second));
    assertEquals("", r.stdout(), "silent, as Exim's -Mg");
    assertEquals("", r.stderr(), r::toString);
    assertFalse(Files.exists(spool.envelopeFile(first)));
    assertFalse(Files.exists(spool.dataFile(first)));
    assertEquals(List.of(second, bounce).stream().sorted().toList(), spool.list());

    Envelope report = spool.readEnvelope(bounce);
    assertEquals("", report.sender());
    assertFalse(report.frozen());
    assertEquals(List.of(new Envelope.Recipient("sender@example.net", "sender", "example.net",
        Envelope.Recipient.State.PENDING)), report.recipients());
    assertEquals(List.of(
            first + " cancelled by " + USER,
            bounce + " <= <> R=" + first + " U=postern P=local S=" + Files.size(spool.dataFile(bounce)),
            first + " Completed"),
        logged(first, bounce), this::logOrEmpty);

    jakarta.mail.internet.MimeMessage m = parse(spool.dataFile(bounce));
    assertEquals("<sender@example.net>", m.getHeader("To", null));
    assertEquals("Mail delivery failed: returning message to sender", m.getSubject());
    assertEquals("alice@test.example", m.getHeader("X-Failed-Recipients", null));
    assertTrue(m.isMimeType("multipart/report"), m.getContentType());
    jakarta.mail.internet.MimeMultipart parts = (jakarta.mail.internet.MimeMultipart) m.getContent();
    assertEquals(3, parts.getCount());
    String text = String.valueOf(parts.getBodyPart(0).getContent());
    assertTrue(text.contains("alice@test.example"), text);
    assertTrue(text.contains("delivery cancelled by administrator"), text);
    assertFalse(text.contains("bob@test.example"), text);
    assertTrue(parts.getBodyPart(1).isMimeType("message/delivery-status"), parts.getBodyPart(1).getContentType());
    String status = new String(parts.getBodyPart(1).getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    assertTrue(status.contains("X-Postern-Queue-ID: " + first + "\r\n"), status);
    assertTrue(status.contains("Final-Recipient: rfc822; alice@test.example\r\nAction: failed\r\nStatus: 5.0.0\r\n"
        + "Diagnostic-Code: X-Postern; delivery cancelled by administrator\r\n"), status);
    assertFalse(status.contains("bob@test.example"), status);
    assertTrue(parts.getBodyPart(2).isMimeType("text/rfc822-headers"), parts.getBodyPart(2).getContentType());
    String headers = new String(parts.getBodyPart(2).getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    assertTrue(headers.contains("Subject: queued"), headers);
    assertFalse(headers.contains("body"), headers);
  }

  @Test
  void giveUpThawsAFrozenMessageFirst() throws Exception {
    assertEquals(0, postern("-Mf", first).exit());
    Result r = postern("-Mg", first);
    assertEquals(0, r.exit(), r::toString);
    String bounce = newMessage(List.of(second));
    assertEquals(List.of(
            first + " frozen by " + USER,
            first + " Unfrozen by forced delivery",
            first + " cancelled by " + USER,
            first + " Completed"),
        logged(first), this::logOrEmpty);
    assertFalse(spool.exists(first));
    assertEquals("alice@test.example, bob@test.example",
        parse(spool.dataFile(bounce)).getHeader("X-Failed-Recipients", null));
  }

  @Test
  void giveUpRemovesABounceWithoutBouncingIt() throws Exception {
    assertEquals(0, postern("-Mf", second).exit());
    Result r = postern("-Mg", second);
    assertEquals(0, r.exit(), r::toString);
    assertEquals("", r.stdout(), r::toString);
    assertEquals(List.of(first), spool.list(), "removed, and no bounce of the bounce");
    assertFalse(Files.exists(spool.dataFile(second)));
    assertEquals(List.of(
            second + " frozen by " + USER,
            second + " Unfrozen by forced delivery",
            second + " cancelled by " + USER,
            second + " Completed"),
        logged(second), this::logOrEmpty);
    assertFalse(mainLog().contains(" R=" + second + " "), this::logOrEmpty);
  }

  @Test
  void theBounceOfGiveUpWaitsForTheNextQueueRun() throws Exception {
    spool.remove(second);
    Envelope e = spool.readEnvelope(first);
    // A local sender, so that the bounce can be delivered here.
    spool.writeEnvelope(new Envelope(e.id(), "alice@test.example", e.recipients(), e.receivedAt(), e.hostAddress(),
        e.hostPort(), e.heloName(), e.protocol(), e.interfaceAddress(), e.interfacePort(), e.authenticatedId(),
        e.bodyType(), e.size(), e.frozen(), e.warningsSent()));
    Result r = postern("-Mg", first);
    assertEquals(0, r.exit(), r::toString);
    String bounce = newMessage(List.of());
    assertEquals(List.of(), server.mailbox("alice"), "-Mg delivers nothing");

    Result run = postern("-q");
    assertEquals(0, run.exit(), run::toString);
    assertEquals(List.of(), spool.list(), this::logOrEmpty);
    List<Path> alice = server.mailbox("alice");
    assertEquals(1, alice.size(), this::logOrEmpty);
    assertEquals("alice@test.example, bob@test.example", parse(alice.get(0)).getHeader("X-Failed-Recipients", null));
    assertEquals(List.of(), server.mailbox("bob"));
    assertTrue(logged(bounce).contains(bounce + " Completed"), this::logOrEmpty);
  }

  @Test
  void giveUpNamesUnknownAndLockedMessagesAndLeavesThemAlone() throws Exception {
    String before = Files.readString(spool.envelopeFile(first));
    try (MessageLock held = MessageLock.tryLock(spool, first).orElseThrow()) {
      Result r = postern("-Mg", first, UNKNOWN, second);
      assertEquals(1, r.exit(), r::toString);
      assertEquals("postern: message " + first + " is locked\n"
          + "postern: message " + UNKNOWN + ": no such message\n", r.stderr(), r::toString);
      assertEquals("", r.stdout(), r::toString);
      assertEquals(List.of(first), spool.list(), "the locked message stays, and no bounce was made for it");
      assertEquals(before, Files.readString(spool.envelopeFile(first)));
      assertTrue(Files.exists(spool.dataFile(first)));
      assertEquals(first, held.id());
    }
    assertEquals(List.of(), logged(first), this::logOrEmpty);
    Result gone = postern("-Mg", second);
    assertEquals(1, gone.exit(), gone::toString);
    assertEquals("postern: message " + second + ": no such message\n", gone.stderr(), gone::toString);
  }

  // ------------------------------------------------------------------ usage

  @Test
  void badUsageExitsTwoAndChangesNothing() throws Exception {
    record Case(List<String> args, String stderr) {
    }
    String modes = "postern: -bd, -bs, -bS, -bh, -bt, -bV, -bP, -bp, -bpu, -bpc, -Mrm, -Mf, -Mt, -Mg, -Mvh, -Mvb, -Mvc,"
        + " -Mvl, -M, -q, -qf, -qff, -R, -bv, -bm/-t and --cluster-status exclude each other\n";
    String needsId = "postern: -Mrm, -Mf, -Mt, -Mg, -Mvh, -Mvb, -Mvc, -Mvl and -M need at least one message id\n";
    List<Case> cases = List.of(
        new Case(List.of("-Mrm"), needsId),
        new Case(List.of("-M"), needsId),
        new Case(List.of("-Mg"), needsId),
        new Case(List.of("-Mvh"), needsId),
        new Case(List.of("-Mvl"), needsId),
        new Case(List.of("-Mvb", "nonsense"), "postern: not a message id: nonsense\n"),
        new Case(List.of("-Mg", "-Mvc", first), modes),
        new Case(List.of("-Mvh", "-Mvb", first), modes),
        new Case(List.of("-Mrm", "../" + first), "postern: not a message id: ../" + first + "\n"),
        new Case(List.of("-Mf", first, "nonsense"), "postern: not a message id: nonsense\n"),
        new Case(List.of("-bp", first), "postern: unexpected argument: " + first + "\n"),
        new Case(List.of("-q", first), "postern: unexpected argument: " + first + "\n"),
        new Case(List.of("-bp", "-Mrm", first), modes),
        new Case(List.of("-Mf", "-Mt", first), modes),
        new Case(List.of("-q", "-bs"), modes),
        new Case(List.of("-bt", "-bp", "alice@test.example"), modes),
        new Case(List.of("-bt"), "postern: -bt and -bv need at least one address\n"),
        new Case(List.of("-bv"), "postern: -bt and -bv need at least one address\n"),
        new Case(List.of("-R", "bad domain!"), "postern: -R: not a domain: \"bad domain!\"\n"),
        new Case(List.of("--queue-timeout", "0", "-q"), "postern: --queue-timeout: must be at least 1 second\n"),
        new Case(List.of("-bP", "--cluster-status"), modes),
        new Case(List.of("--cluster", "-Mrm", first),
            "postern: --cluster goes with the daemon, -q, -qf, -qff, -R, -M, -bp, -bpu and -bpc\n"));
    for (Case c : cases) {
      Result r = postern(c.args().toArray(String[]::new));
      assertEquals(2, r.exit(), () -> c + "\n" + r);
      assertEquals(c.stderr(), r.stderr(), () -> c + "\n" + r);
      assertEquals("", r.stdout(), () -> c + "\n" + r);
    }
    assertEquals(List.of(first, second), spool.list());
    assertFalse(spool.readEnvelope(first).frozen());
    Result config = ChildPostern.run(server.root(), server.confDir().resolve("missing.yaml"), "", "-bp");
    assertEquals(2, config.exit(), config::toString);
    assertTrue(config.stderr().startsWith("postern: configuration error: "), config::toString);
  }

  // ------------------------------------------------------------------ -q, -qf, -R, -M

  /** A verticles.json with the configuration, the maildir transport and, when given, a stand-in queue. */
  private Path verticles(JsonObject queue) throws Exception {
    JsonArray list = new JsonArray()
        .add(new JsonObject().put("name", "org.postern.config.ConfigVerticle"))
        .add(new JsonObject().put("name", "org.postern.delivery.MaildirDeliveryVerticle"));
    if (queue != null) {
      list.add(new JsonObject().put("name", RecordingQueueFlushVerticle.class.getName()).put("config", queue));
    }
    Path file = server.root().resolve("verticles-" + System.nanoTime() + ".json");
    Files.writeString(file, new JsonObject().put("verticles", list).encode(), StandardCharsets.UTF_8);
    return file;
  }

  private List<JsonObject> recorded(Path file) throws Exception {
    if (!Files.exists(file)) {
      return List.of();
    }
    return Files.readAllLines(file, StandardCharsets.UTF_8).stream().map(JsonObject::new).toList();
  }

  @Test
  void queueFlagsSendTheirRequestAndExitWhenAnswered() throws Exception {
    Path record = server.root().resolve("flush-requests");
    Path list = verticles(new JsonObject().put("record_file", record.toString()).put("started", 2));
    record Case(List<String> args, JsonObject request) {
    }
    List<Case> cases = List.of(
        new Case(List.of("-q"), new JsonObject().put("wait", true)),
        new Case(List.of("-qf"), new JsonObject().put("force", true).put("wait", true)),
        new Case(List.of("-qff"), new JsonObject().put("force", true).put("thaw", true).put("wait", true)),
        new Case(List.of("-R", "test.example"),
            new JsonObject().put("domain", "test.example").put("force", true).put("wait", true)),
        new Case(List.of("-M", first, second),
            new JsonObject().put("ids", new JsonArray().add(first).add(second)).put("force", true).put("thaw", true)
                .put("wait", true)));
    List<JsonObject> expected = new ArrayList<>();
    for (Case c : cases) {
      List<String> args = new ArrayList<>(List.of("--verticles", list.toString()));
      args.addAll(c.args());
      Result r = postern(args.toArray(String[]::new));
      assertEquals(0, r.exit(), () -> c + "\n" + r);
      assertEquals("", r.stdout(), () -> c + "\n" + r);
      expected.add(c.request());
      assertEquals(expected, recorded(record), () -> c + "\n" + r);
    }
  }

  @Test
  void deliverNamesUnknownIdsAndAsksOnlyForTheKnownOnes() throws Exception {
    Path record = server.root().resolve("flush-requests");
    Path list = verticles(new JsonObject().put("record_file", record.toString()).put("started", 1));
    Result r = postern("--verticles", list.toString(), "-M", UNKNOWN, first);
    assertEquals(1, r.exit(), r::toString);
    assertTrue(r.stderr().contains("postern: message " + UNKNOWN + ": no such message\n"), r::toString);
    assertEquals(List.of(new JsonObject().put("ids", new JsonArray().add(first)).put("force", true).put("thaw", true)
            .put("wait", true)),
        recorded(record));

    Result none = postern("--verticles", list.toString(), "-M", UNKNOWN);
    assertEquals(1, none.exit(), none::toString);
    assertEquals(1, recorded(record).size(), "nothing to ask for: no request");
  }

  @Test
  void queueRunWithoutAQueueSaysSoAndExitsOne() throws Exception {
    Result r = postern("--verticles", verticles(null).toString(), "-q");
    assertEquals(1, r.exit(), r::toString);
    assertTrue(r.stderr().contains("postern: queue runner did not answer: nothing consumes postern.queue.flush\n"),
        r::toString);
  }

  @Test
  void queueRunnerThatNeverAnswersTimesOut() throws Exception {
    Path record = server.root().resolve("flush-requests");
    Path list = verticles(new JsonObject().put("record_file", record.toString()).put("answer", false));
    Result r = postern("--verticles", list.toString(), "--queue-timeout", "1", "-qf");
    assertEquals(1, r.exit(), r::toString);
    assertTrue(r.stderr().contains("postern: queue runner did not answer within 1 s\n"), r::toString);
    assertEquals(List.of(new JsonObject().put("force", true).put("wait", true)), recorded(record));
  }

  @Test
  void dashMThawsAFrozenMessageAndDeliversItAsEximDoes() throws Exception {
    assertEquals(0, postern("-Mf", second).exit());
    assertEquals(0, postern("-qf").exit());
    assertEquals(List.of(second), spool.list(), "-qf leaves a frozen message alone");
    Result r = postern("-M", second);
    assertEquals(0, r.exit(), r::toString);
    assertEquals(List.of(), spool.list(), this::logOrEmpty);
    assertEquals(2, server.mailbox("alice").size(), this::logOrEmpty);
    assertTrue(mainLog().contains(" " + second + " Unfrozen by forced delivery\n"), this::logOrEmpty);
  }

  @Test
  void dashQffThawsAndDeliversEveryFrozenMessage() throws Exception {
    assertEquals(0, postern("-Mf", first, second).exit());
    Result r = postern("-qff");
    assertEquals(0, r.exit(), r::toString);
    assertEquals(List.of(), spool.list(), this::logOrEmpty);
    assertTrue(mainLog().contains(" " + first + " Unfrozen by forced delivery\n"), this::logOrEmpty);
    assertTrue(mainLog().contains(" " + second + " Unfrozen by forced delivery\n"), this::logOrEmpty);
  }

  @Test
  void queueRunDeploysTheShippedQueueWithoutListeners() throws Exception {
    // The shipped verticles.json: the queue and transports start in this process, nothing listens.
    Result r = postern("-q");
    assertEquals(0, r.exit(), r::toString);
    assertFalse(r.stderr().contains("did not answer"), r::toString);
    assertFalse(r.stderr().contains("listening for SMTP"), r::toString);
  }

  @Test
  void queueRunsDeliverWhatTheyTakeAndExitWhenDone() throws Exception {
    assertEquals(0, postern("-Mf", second).exit());
    Result one = postern("-M", first);
    assertEquals(0, one.exit(), one::toString);
    // -M returned only after the delivery: both recipients of the first message are in their mailboxes.
    assertEquals(1, server.mailbox("alice").size(), this::logOrEmpty);
    assertEquals(1, server.mailbox("bob").size());
    assertEquals(List.of(second), spool.list(), "the frozen message stays, the delivered one is gone");

    Result run = postern("-q");
    assertEquals(0, run.exit(), run::toString);
    assertEquals(1, server.mailbox("alice").size(), "a queue run leaves frozen messages alone");
    assertEquals(0, postern("-Mt", second).exit());
    Result thawed = postern("-q");
    assertEquals(0, thawed.exit(), thawed::toString);
    assertEquals(2, server.mailbox("alice").size(), this::logOrEmpty);
    assertEquals(List.of(), spool.list());
    assertTrue(mainLog().contains(first + " Completed"), this::logOrEmpty);
  }

  @Test
  void dashVPrintsEachDeliveryAndTheRunsSummary() throws Exception {
    Envelope e = spool.readEnvelope(second);
    List<Envelope.Recipient> rcpts = new ArrayList<>(e.recipients());
    rcpts.add(new Envelope.Recipient("nobody@test.example", "nobody", "test.example", Envelope.Recipient.State.PENDING));
    spool.writeEnvelope(e.withRecipients(rcpts));
    Result r = postern("-qf", "-v");
    assertEquals(0, r.exit(), r::toString);
    List<String> lines = r.stdout().lines().toList();
    assertEquals(List.of(first + " => alice@test.example R=localuser T=maildir",
            first + " => bob@test.example R=localuser T=maildir",
            second + " => alice@test.example R=localuser T=maildir",
            second + " ** nobody@test.example: Unrouteable address").stream().sorted().toList(),
        lines.subList(0, lines.size() - 1).stream().sorted().toList(), r::toString);
    assertEquals("queue run: 2 messages; recipients: 3 delivered, 0 deferred, 1 failed", lines.get(lines.size() - 1),
        r::toString);
  }

  @Test
  void aQueueRunPrintsNothingWhenNotAskedAndNotOnATerminal() throws Exception {
    // The child's standard output is a pipe, as under cron: Exim's silence.
    Result r = postern("-q");
    assertEquals(0, r.exit(), r::toString);
    assertEquals("", r.stdout(), r::toString);
    assertEquals(2, server.mailbox("alice").size(), this::logOrEmpty);
  }

  private String logOrEmpty() {
    try {
      return "main log:\n" + mainLog();
    } catch (Exception e) {
      return e.toString();
    }
  }
}
