package org.postern.acl;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.postern.bus.AclVerdict;
import org.postern.bus.Addresses;
import org.postern.config.ConfigHolder;
import org.postern.config.PosternConfig;
import org.postern.log.MainLog;

/**
 * Serves {@code postern.acl.check}: {@code {stage, variables, generation}} in, an
 * {@link AclVerdict} out. Evaluates with the configuration generation the session started with
 * when it is still known, so a reload never changes the rules under a running session.
 */
public final class AclVerticle extends VerticleBase {
  private ConfigHolder config;

  @Override
  public Future<?> start() {
    config = ConfigHolder.of(vertx);
    return vertx.eventBus().<JsonObject>localConsumer(Addresses.ACL_CHECK, this::check).completion();
  }

  private void check(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    String stage = body.getString("stage");
    PosternConfig c = config.generation(body.getString("generation"));
    // -bh: every step of the evaluation goes to stderr, as Exim's ">>>" lines do.
    java.util.function.Consumer<String> trace = body.getBoolean("trace", false)
        ? line -> System.err.println(">>> " + line) : line -> { };
    AclEngine.evaluate(stage, body.getJsonObject("variables", new JsonObject()), c, trace, vertx).onComplete(r -> {
      if (r.succeeded()) {
        AclVerdict v = r.result();
        trace.accept(stage + " ACL (" + c.aclForStage(stage) + "): " + v.type().wire()
            + (v.message() == null ? "" : " \"" + v.message() + "\""));
        if (v.logMessage() != null) {
          MainLog.write(v.logMessage());
        }
        msg.reply(v.toJson());
      } else {
        msg.fail(451, "ACL " + stage + " failed: " + r.cause().getMessage());
      }
    });
  }
}
