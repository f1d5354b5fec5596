package org.postern.admin;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postern.spool.Spool;
import org.postern.testing.ChildPostern;
import org.postern.testing.ChildPostern.Result;
import org.postern.testing.PosternTestServer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The status page in a real browser, headless Chromium (Debian's {@code chromium}, installed by
 * {@code .ci/run}), against a running server with an admin token: two runs only, as a browser
 * costs seconds. One loads {@code /?freeze=ID#token=...} and dumps the DOM once the page's script
 * ran ({@code --virtual-time-budget}): the queue is rendered and the page froze the message, which
 * {@code -bp} then shows; the other takes a screenshot of the page.
 */
class AdminPageBrowserTest {
  private static final String TOKEN = "page-" + Long.toHexString(System.nanoTime());
  private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G'};

  private PosternTestServer server;

  @AfterEach
  void tearDown() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  /** Runs Chromium headless with {@code args} and the page's URL; its stdout. */
  private String chromium(String url, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("chromium", "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-dev-shm-usage", "--no-first-run", "--user-data-dir=" + server.root().resolve("chromium"),
        "--virtual-time-budget=15000"));
    cmd.addAll(List.of(args));
    cmd.add(url);
    Path out = server.root().resolve("chromium.out");
    Path err = server.root().resolve("chromium.err");
    Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(90, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("chromium did not finish within 90 s\n" + Files.readString(err));
    }
    assertEquals(0, p.exitValue(), () -> "chromium failed\n" + readQuietly(err));
    return Files.readString(out, StandardCharsets.UTF_8);
  }

  private static String readQuietly(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      return e.toString();
    }
  }

  @Test
  void thePageShowsTheQueueAndFreezesAMessageThatBpThenShowsFrozen() throws Exception {
    server = PosternTestServer.create().option("queue_only", "true")
        .option("admin_listener", "{ address: 127.0.0.1, port: 0 }").option("admin_token_file", "admin.token");
    Files.writeString(server.confDir().resolve("admin.token"), TOKEN + "\n");
    server.start();
    String first = server.accept("<alice@example.net>", "bob@test.example");
    String second = server.accept("<carol@example.org>", "alice@test.example");
    int port = server.vertx().sharedData().<String, Integer>getLocalMap(AdminVerticle.PORT).get("port");
    String page = "http://127.0.0.1:" + port + "/";

    String dom = chromium(page + "?freeze=" + second + "#token=" + TOKEN, "--dump-dom");
    assertTrue(dom.contains("data-ready=\"true\""), dom);
    assertTrue(dom.contains("data-last-action=\"freeze " + second + " 200\""), dom);
    assertTrue(dom.contains("id=\"message-" + first + "\""), dom);
    assertTrue(dom.contains(second + " *** frozen ***"), dom);
    assertFalse(dom.contains(first + " *** frozen ***"), dom);
    assertTrue(dom.contains("&lt;carol@example.org&gt;"), dom);
    assertTrue(dom.contains("<strong id=\"queue-total\">2</strong>"), dom);
    assertTrue(dom.contains("<strong id=\"queue-frozen\">1</strong>"), dom);
    assertTrue(dom.contains("Message " + second + " is now frozen"), dom);

    assertTrue(new Spool(server.root().resolve("spool")).readEnvelope(second).frozen());
    Result bp = ChildPostern.run(server.root(), server.confDir().resolve("postern.yaml"), "", "-bp");
    assertEquals(0, bp.exit(), bp::toString);
    assertTrue(bp.stdout().contains(second + " <carol@example.org> *** frozen ***\n"), bp::toString);
    assertTrue(bp.stdout().contains(first + " <alice@example.net>\n"), bp::toString);

    Path shot = server.root().resolve("status-page.png");
    chromium(page + "#token=" + TOKEN, "--screenshot=" + shot, "--window-size=1200,700", "--hide-scrollbars");
    byte[] png = Files.readAllBytes(shot);
    assertArrayEquals(PNG, java.util.Arrays.copyOf(png, 4), "not a PNG");
    assertTrue(png.length > 10_000, "a blank page? " + png.length + " bytes");
    Path kept = Path.of("target", "admin-status-page.png");
    Files.copy(shot, kept, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }
}
