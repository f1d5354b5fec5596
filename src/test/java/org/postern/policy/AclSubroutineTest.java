package org.postern.policy;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.postern.bus.AclStage;
import org.postern.bus.AclVerdict;
import org.postern.config.ConfigException;
import org.postern.config.ConfigLoader;
import org.postern.config.PosternConfig;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code condition} and {@code acl} conditions, and expanded {@code message}s. */
class AclSubroutineTest {
  private static final Path CONFIG_FILE = Path.of("/postern-acl-sub/conf/postern.yaml").toAbsolutePath();

  private static PosternConfig config(String acl) throws Exception {
    List<Path> files = ConfigLoader.files(CONFIG_FILE);
    Map<Path, String> texts = new LinkedHashMap<>();
    texts.put(files.get(0), "primary_hostname: mx.test.example\nacl_smtp_rcpt: rcpt\n");
    texts.put(files.get(1), acl);
    texts.put(files.get(2), "alice:{PLAIN}x\n");
    texts.put(files.get(3), "");
    return ConfigLoader.parse(CONFIG_FILE, texts);
  }

  private static AclVerdict rcpt(PosternConfig c, String helo, String localPart) throws Exception {
    // As SmtpSession.variables() offers them.
    JsonObject vars = new JsonObject().put("sender_host_address", "192.0.2.7").put("sender_helo_name", helo)
        .put("primary_hostname", c.primaryHostname()).put("local_part", localPart).put("domain", "remote.example");
    return AclEngine.evaluate(AclStage.RCPT, vars, c).toCompletionStage().toCompletableFuture().get();
  }

  @Test
  void conditionIsAnExpansion() throws Exception {
    PosternConfig c = config("rcpt:\n"
        + "  - deny: { condition: \"${if eq{$sender_helo_name}{$primary_hostname}}\", message: forged HELO }\n"
        + "  - accept:\n");
    AclVerdict forged = rcpt(c, "mx.test.example", "bob");
    assertEquals(AclVerdict.Type.DENY, forged.type());
    assertEquals("forged HELO", forged.message());
    assertEquals(AclVerdict.Type.ACCEPT, rcpt(c, "client.example", "bob").type());
  }

  @Test
  void negatedCondition() throws Exception {
    PosternConfig c = config("rcpt:\n  - deny: { \"!condition\": \"${if eq{$local_part}{bob}}\" }\n  - accept:\n");
    assertEquals(AclVerdict.Type.ACCEPT, rcpt(c, "h", "bob").type());
    assertEquals(AclVerdict.Type.DENY, rcpt(c, "h", "carol").type());
  }

  @Test
  void conditionThatCannotBeEvaluatedDefers() throws Exception {
    PosternConfig c = config("rcpt:\n  - accept: { condition: \"$local_part\" }\n  - deny:\n");
    // "bob" is neither true nor false: Exim defers rather than guessing.
    assertEquals(AclVerdict.Type.DEFER, rcpt(c, "h", "bob").type());
    assertEquals(AclVerdict.Type.ACCEPT, rcpt(c, "h", "yes").type());
  }

  @Test
  void aclCallsAnotherAcl() throws Exception {
    PosternConfig c = config("rcpt:\n  - deny: { acl: blocked, message: \"$local_part is blocked\" }\n"
        + "  - accept:\nblocked:\n  - accept: { condition: \"${if eq{$local_part}{spam}}\" }\n  - deny:\n");
    AclVerdict spam = rcpt(c, "h", "spam");
    assertEquals(AclVerdict.Type.DENY, spam.type());
    assertEquals("spam is blocked", spam.message());
    assertEquals(AclVerdict.Type.ACCEPT, rcpt(c, "h", "ham").type());
  }

  @Test
  void recursionIsBoundedAndDefers() throws Exception {
    PosternConfig c = config("rcpt:\n  - accept: { acl: loop }\n  - deny:\nloop:\n  - accept: { acl: loop }\n");
    assertEquals(AclVerdict.Type.DEFER, rcpt(c, "h", "bob").type());
  }

  @Test
  void unknownAclUnknownVariableAndUnsupportedItemsAreRefusedAtLoad() {
    ConfigException missing = assertThrows(ConfigException.class,
        () -> config("rcpt:\n  - accept:\n  - deny: { acl: nosuch }\n"));
    assertEquals(3, missing.line(), missing.getMessage());
    assertTrue(missing.getMessage().contains("nosuch"), missing.getMessage());
    ConfigException variable = assertThrows(ConfigException.class,
        () -> config("rcpt:\n  - deny: { message: \"$local_prt unknown\" }\n"));
    assertTrue(variable.getMessage().contains("message"), variable.getMessage());
    assertEquals(2, variable.line(), variable.getMessage());
    ConfigException run = assertThrows(ConfigException.class,
        () -> config("rcpt:\n  - deny: { condition: \"${run{/bin/true}}\" }\n"));
    assertTrue(run.getMessage().contains("not supported"), run.getMessage());
  }

  @Test
  void verifyFailureDoesNotLeakIntoALaterRule() throws Exception {
    // The first rule's verify fails (550 5.1.1), but the deny that decides is a later rule without verify.
    PosternConfig c = config("rcpt:\n  - accept: { verify: recipient, domains: \"*\" }\n"
        + "  - deny: { message: relay not permitted }\n");
    JsonObject vars = new JsonObject().put("sender_host_address", "192.0.2.7").put("local_part", "nobody")
        .put("domain", "mx.test.example");
    AclVerdict v = AclEngine.evaluate(AclStage.RCPT, vars, c).toCompletionStage().toCompletableFuture().get();
    assertEquals(AclVerdict.Type.DENY, v.type());
    assertEquals("relay not permitted", v.message());
    assertEquals(null, v.code());
  }
}
