package org.postern.acl;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.postern.bus.AclStage;
import org.postern.bus.AclCheck;
import org.postern.bus.AclVerdict;
import org.postern.bus.Addresses;
import org.postern.bus.BusCodecs;
import org.postern.bus.InstanceDirectory;
import org.postern.config.ConfigHolder;
import org.postern.config.PosternConfig;
import org.postern.log.MainLog;
import org.postern.policy.AclEngine;

import java.util.function.Consumer;

/**
 * Serves {@code postern.acl.check}: an {@link AclCheck} in, an {@link AclVerdict} out. Each
 * instance answers on its own address ({@code postern.acl.check.<n>}, records by reference, for
 * the session instance on the same event loop) and on the plain address (JSON, for everyone else:
 * plugins, benchmarks, a session on a loop without an ACL instance). Evaluates with the
 * configuration generation the session started with when it is still known, so a reload never
 * changes the rules under a running session. Holds no per-session state: any instance can answer.
 */
public final class AclVerticle extends VerticleBase {
  private ConfigHolder config;
  private InstanceDirectory<String> directory;
  private String instance;

  @Override
  public Future<?> start() {
    config = ConfigHolder.of(vertx);
    BusCodecs.register(vertx);
    directory = InstanceDirectory.of(vertx, Addresses.ACL_CHECK);
    var bus = vertx.eventBus();
    Future<Void> plain = bus.<JsonObject>localConsumer(Addresses.ACL_CHECK, this::checkJson).completion();
    instance = directory.register(context, n -> Addresses.ofInstance(Addresses.ACL_CHECK, n));
    Future<Void> typed = bus.<AclCheck>localConsumer(instance, m -> check(m.body(), m, m::reply)).completion();
    return Future.all(plain, typed);
  }

  @Override
  public Future<?> stop() {
    directory.unregister(instance);
    return Future.succeededFuture();
  }

  private void checkJson(Message<JsonObject> msg) {
    AclCheck check;
    try {
      check = AclCheck.fromJson(msg.body());
    } catch (IllegalArgumentException e) {
      msg.fail(400, "bad acl check: " + e.getMessage());
      return;
    }
    check(check, msg, v -> msg.reply(v.toJson()));
  }

  private void check(AclCheck check, Message<?> msg, Consumer<AclVerdict> reply) {
    AclStage stage = check.stage();
    PosternConfig c = config.generation(check.generation());
    // -bh: every step of the evaluation goes to stderr, as Exim's ">>>" lines do.
    Consumer<String> trace = check.trace() ? line -> System.err.println(">>> " + line) : line -> { };
    AclEngine.evaluate(stage, check.variables(), c, trace, vertx).onComplete(r -> {
      if (r.succeeded()) {
        AclVerdict v = r.result();
        trace.accept(stage.wire() + " ACL (" + c.aclForStage(stage) + "): " + v.type().wire()
            + (v.message() == null ? "" : " \"" + v.message() + "\""));
        if (v.logMessage() != null) {
          MainLog.write(v.logMessage());
        }
        reply.accept(v);
      } else {
        msg.fail(451, "ACL " + stage.wire() + " failed: " + r.cause().getMessage());
      }
    });
  }
}
