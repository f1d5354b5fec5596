package org.postern.session;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exim's {@code drop} verb at the query stages (VRFY, EXPN, ETRN) over a real socket: the client
 * gets the refusal, then the server closes the connection, and the main log says why.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AclDropTest {
  private static final String ACL = String.join("\n",
      "acl_check_rcpt:",
      "  - accept:",
      "query_drop:",
      "  - drop: { message: \"go away\" }",
      "");

  private static PosternTestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = PosternTestServer.create().acl(ACL)
        .option("acl_smtp_vrfy", "query_drop")
        .option("acl_smtp_expn", "query_drop")
        .option("acl_smtp_etrn", "query_drop")
        .start();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  /** Sends {@code command} after EHLO, asserts the reply, that the server closes, and the log lines. */
  private static void assertDropped(String command, int code, String verbAndArgument) throws Exception {
    MainLogFile log = MainLogFile.ofTestJvm().fromNow();
    try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      SmtpTestClient.Reply r = c.command(command);
      assertEquals(code, r.code(), r::toString);
      assertEquals(List.of((code / 100) + ".7.1 go away"), r.lines(), r::toString);
      c.timeout(5000);
      assertTrue(c.closedByServer(), "drop must close the connection after " + r);
      String rejected = MainLogFile.event(log.await(5000, "H=(client.example) [127.0.0.1]:",
          " rejected " + verbAndArgument + ": go away"));
      assertTrue(rejected.startsWith("H=(client.example) [127.0.0.1]:"), rejected);
      log.await(5000, "SMTP connection from H=(client.example) [127.0.0.1]:", " closed by DROP in ACL");
    }
  }

  @Test
  void dropAtVrfyClosesTheConnection() throws Exception {
    assertDropped("VRFY alice@test.example", 550, "VRFY alice@test.example");
  }

  @Test
  void dropAtExpnClosesTheConnection() throws Exception {
    assertDropped("EXPN postmaster", 550, "EXPN postmaster");
  }

  /** The etrn stage refuses with 458 (RFC 1985; Exim), drop or not. */
  @Test
  void dropAtEtrnClosesTheConnection() throws Exception {
    assertDropped("ETRN example.org", 458, "ETRN example.org");
  }
}
