package org.postern.session;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.postern.bus.AclCheck;
import org.postern.bus.AclStage;
import org.postern.bus.AclVerdict;
import org.postern.bus.InstanceDirectory;
import org.postern.policy.AclEngine;
import org.postern.bus.AclVerdict;
import org.postern.bus.AclStage;
import org.postern.bus.Addresses;
import org.postern.config.PosternConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


/**
 * Asks {@code postern.acl.check} for a verdict: the ACL instance on this event loop by reference
 * ({@link AclCheck} in, {@link AclVerdict} out, no hop), else any instance (or a plugin that
 * replaces them) in JSON on the plain address. A stage without an ACL is answered here with Exim's
 * default, saving a bus round trip on the hot path; an ACL that does not answer in time (a stuck
 * plugin) is a deferral, never a hung session.
 */
final class AclClient {
  private static final Logger LOG = LoggerFactory.getLogger(AclClient.class);

  private final Vertx vertx;
  private final DeliveryOptions options;
  private final InstanceDirectory<String> instances;

  AclClient(Vertx vertx, long timeoutMs) {
    this.vertx = vertx;
    this.options = new DeliveryOptions().setSendTimeout(timeoutMs).setLocalOnly(true);
    this.instances = InstanceDirectory.of(vertx, Addresses.ACL_CHECK);
  }

  /** {@code variables} are handed over (see {@link AclCheck}): build them for this check only. */
  Future<AclVerdict> check(PosternConfig config, AclStage stage, JsonObject variables, boolean trace) {
    if (config.aclForStage(stage) == null) {
      AclVerdict verdict = AclEngine.defaultVerdict(stage);
      if (trace) {
        System.err.println(">>> no " + stage.wire() + " ACL: " + verdict.type().wire() + " (Exim's default)");
      }
      return Future.succeededFuture(verdict);
    }
    AclCheck request = new AclCheck(stage, variables, config.generation(), trace);
    String local = instances.onLoopOf(vertx.getOrCreateContext());
    Future<Message<Object>> answer = local != null
        ? vertx.eventBus().request(local, request, options)
        : vertx.eventBus().request(Addresses.ACL_CHECK, request.toJson(), options);
    // One continuation for the answer, its failure and the delay: one future per check instead of three.
    return answer.transform(r -> {
      AclVerdict verdict = null;
      Throwable cause = r.cause();
      if (r.succeeded()) {
        try {
          verdict = verdict(r.result().body());
        } catch (RuntimeException e) {
          cause = e;
        }
      }
      if (verdict == null) {
        LOG.warn("acl {} check failed, deferring: {}", stage.wire(), cause.getMessage());
        verdict = AclVerdict.of(AclVerdict.Type.DEFER);
      }
      return delayed(verdict, trace);
    });
  }

  /** The local instance answers by reference, any other (or a plugin) in JSON. */
  private static AclVerdict verdict(Object body) {
    return body instanceof AclVerdict v ? v : AclVerdict.fromJson((JsonObject) body);
  }

  /** {@code delay =}: the reply waits on a timer, never on a thread. Exim skips it under {@code -bh}. */
  private Future<AclVerdict> delayed(AclVerdict verdict, boolean trace) {
    long millis = verdict.effects().delayMillis();
    if (millis <= 0) {
      return Future.succeededFuture(verdict);
    }
    if (trace) {
      System.err.println(">>> delay of " + millis + "ms skipped in -bh checking mode");
      return Future.succeededFuture(verdict);
    }
    return vertx.timer(millis, java.util.concurrent.TimeUnit.MILLISECONDS).map(t -> verdict);
  }
}
