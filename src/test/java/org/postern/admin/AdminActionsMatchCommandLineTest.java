package org.postern.admin;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postern.spool.Envelope;
import org.postern.spool.Spool;
import org.postern.testing.ChildPostern;
import org.postern.testing.ChildPostern.Result;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;

import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every queue action of the admin API against its command-line twin, on two messages alike in all
 * but their id: {@code -Mf}/{@code freeze}, {@code -Mt}/{@code thaw}, {@code -Mrm}/{@code remove},
 * {@code -Mg}/{@code giveup} and {@code -M}/{@code deliver}. The command line runs in a child JVM
 * beside the running server (whose API answers), so both take the same message locks; each pair
 * must leave the same spool state, the same {@code -bp} lines and the same main-log events (ids
 * aside): the API writes to the test JVM's main log, the command line to its own.
 */
class AdminActionsMatchCommandLineTest {
  private static final Pattern ID = Pattern.compile("[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{4}");

  private PosternTestServer server;
  private Spool spool;
  private MainLogFile cliLog;
  private AdminHttp http;

  @BeforeEach
  void setUp() throws Exception {
    server = PosternTestServer.create().option("queue_only", "true")
        .option("admin_listener", "{ address: 127.0.0.1, port: 0 }").start();
    spool = new Spool(server.root().resolve("spool"));
    cliLog = new MainLogFile(server.root().resolve("log").resolve("mainlog"));
    http = AdminHttp.to(server.vertx().sharedData().<String, Integer>getLocalMap(AdminVerticle.PORT).get("port"));
  }

  @AfterEach
  void tearDown() throws Exception {
    http.close();
    server.close();
  }

  /** Two messages alike but for their id, their arrival logged (the log is written asynchronously). */
  private List<String> pair() throws Exception {
    List<String> ids = List.of(server.accept("<sender@example.net>", "alice@test.example", "bob@test.example"),
        server.accept("<sender@example.net>", "alice@test.example", "bob@test.example"));
    for (String id : ids) {
      MainLogFile.ofTestJvm().await(10_000, id + " no immediate delivery: queued");
    }
    return ids;
  }

  private Result postern(String... args) throws Exception {
    return ChildPostern.run(server.root(), server.confDir().resolve("postern.yaml"), "", args);
  }

  /** The events logged about {@code id} (lines naming it), ids replaced by {@code ID}. */
  private static List<String> events(MainLogFile log, String id) throws Exception {
    return log.lines(id).stream().map(l -> ID.matcher(MainLogFile.event(l)).replaceAll("ID")).toList();
  }

  /**
   * Runs {@code flag} on the first message and {@code action} on the second, and asserts that both
   * logged the same events (the API's waited for until its last line came) with the API's reply.
   */
  private void both(List<String> ids, String flag, String action, int status) throws Exception {
    MainLogFile cli = cliLog.fromNow();
    MainLogFile api = MainLogFile.ofTestJvm().fromNow();
    Result r = postern(flag, ids.get(0));
    AdminHttp.Answer answer = http.post("/queue/" + ids.get(1) + "/" + action);
    assertEquals(status, answer.status(), answer::toString);
    List<String> cliEvents = events(cli, ids.get(0));
    assertFalse(cliEvents.isEmpty(), () -> flag + " logged nothing: " + r);
    String last = cliEvents.get(cliEvents.size() - 1).replace("ID", ids.get(1));
    api.await(30_000, last.split(" ", 2)[0], last.split(" ", 2)[1].replace(ids.get(0), ids.get(1)));
    assertEquals(cliEvents, events(api, ids.get(1)), () -> flag + " and " + action + " logged differently");
    if (status == 200 && answer.json().getString("message") != null) {
      assertEquals(r.stdout().strip().replace(ids.get(0), ids.get(1)), answer.json().getString("message"));
    }
  }

  /** The {@code -bp} block of each message, ids replaced: the same for both of a pair. */
  private void sameListing(List<String> ids) throws Exception {
    Result bp = postern("-bp");
    assertEquals(0, bp.exit(), bp::toString);
    List<String> blocks = List.of(bp.stdout().split("\n\n"));
    String first = blocks.stream().filter(b -> b.contains(ids.get(0))).findFirst().orElseThrow();
    String second = blocks.stream().filter(b -> b.contains(ids.get(1))).findFirst().orElseThrow();
    assertEquals(first.replace(ids.get(0), "ID"), second.replace(ids.get(1), "ID"), bp::toString);
  }

  private void sameEnvelope(List<String> ids) throws Exception {
    Envelope a = spool.readEnvelope(ids.get(0));
    Envelope b = spool.readEnvelope(ids.get(1));
    assertEquals(a.frozen(), b.frozen());
    assertEquals(a.recipients(), b.recipients());
  }

  @Test
  void freezeAndThawAsMfAndMt() throws Exception {
    List<String> ids = pair();
    both(ids, "-Mf", "freeze", 200);
    assertTrue(spool.readEnvelope(ids.get(1)).frozen());
    sameEnvelope(ids);
    sameListing(ids);

    Result again = postern("-Mf", ids.get(0));
    AdminHttp.Answer refused = http.post("/queue/" + ids.get(1) + "/freeze");
    assertEquals(409, refused.status(), refused::toString);
    assertEquals(again.stderr().strip().replace(ids.get(0), ids.get(1)), "postern: " + refused.json().getString("message"));

    both(ids, "-Mt", "thaw", 200);
    assertFalse(spool.readEnvelope(ids.get(1)).frozen());
    sameEnvelope(ids);
    sameListing(ids);
  }

  @Test
  void removeAsMrm() throws Exception {
    List<String> ids = pair();
    both(ids, "-Mrm", "remove", 200);
    assertFalse(spool.exists(ids.get(0)));
    assertFalse(spool.exists(ids.get(1)));
    Result bp = postern("-bp");
    assertEquals("", bp.stdout(), bp::toString);
    assertEquals(404, http.post("/queue/" + ids.get(1) + "/remove").status());
  }

  @Test
  void giveUpAsMg() throws Exception {
    List<String> ids = pair();
    both(ids, "-Mg", "giveup", 200);
    assertFalse(spool.exists(ids.get(0)));
    assertFalse(spool.exists(ids.get(1)));
    // One bounce each, to the sender, left for the next queue run.
    List<Envelope> bounces = spool.list().stream().map(id -> {
      try {
        return spool.readEnvelope(id);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }).toList();
    assertEquals(2, bounces.size(), bounces::toString);
    assertTrue(bounces.stream().allMatch(b -> b.sender().isEmpty()
        && b.recipients().get(0).address().equals("sender@example.net")), bounces::toString);
  }

  @Test
  void deliverAsDashM() throws Exception {
    List<String> ids = pair();
    both(ids, "-Mf", "freeze", 200);
    MainLogFile cli = cliLog.fromNow();
    MainLogFile api = MainLogFile.ofTestJvm().fromNow();
    Result r = postern("-M", ids.get(0));
    assertEquals(0, r.exit(), r::toString);
    AdminHttp.Answer answer = http.post("/queue/" + ids.get(1) + "/deliver");
    assertEquals(202, answer.status(), answer::toString);
    assertEquals(1, answer.json().getInteger("started"));
    api.awaitCompleted(ids.get(1), 30_000);
    List<String> cliEvents = events(cli, ids.get(0));
    assertTrue(cliEvents.get(cliEvents.size() - 1).endsWith("ID Completed"), cliEvents::toString);
    assertEquals(cliEvents, events(api, ids.get(1)));
    assertFalse(spool.exists(ids.get(0)));
    assertFalse(spool.exists(ids.get(1)));
    assertEquals(4, server.mailbox("alice").size() + server.mailbox("bob").size());
  }
}
