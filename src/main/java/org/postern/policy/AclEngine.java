package org.postern.policy;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.postern.bus.AclVerdict;
import org.postern.expand.Expansion;
import org.postern.expand.ExpansionException;
import org.postern.bus.AclStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Evaluates one SMTP stage's ACL against the session's variables: the single policy function shared
 * by the live server, {@code -bs}, {@code -bS} and the tests. Holds no per-session state.
 */
public final class AclEngine {
  private static final Logger LOG = LoggerFactory.getLogger(AclEngine.class);
  /** Exim: a stage without an ACL accepts, except these, which deny. */
  private static final Set<AclStage> DENY_BY_DEFAULT = EnumSet.of(AclStage.RCPT, AclStage.VRFY, AclStage.EXPN,
      AclStage.ETRN);
  private static final AclVerdict DEFAULT_ACCEPT = AclVerdict.of(AclVerdict.Type.ACCEPT);
  private static final AclVerdict DEFAULT_DENY = AclVerdict.of(AclVerdict.Type.DENY);

  private AclEngine() {
  }

  public static Future<AclVerdict> evaluate(AclStage stage, JsonObject variables, AclSettings config) {
    return evaluate(stage, variables, config, line -> { });
  }

  /** As {@link #evaluate(AclStage, JsonObject, AclSettings)}, reporting each decision step to {@code trace}. */
  public static Future<AclVerdict> evaluate(AclStage stage, JsonObject variables, AclSettings config,
                                            Consumer<String> trace) {
    return evaluate(stage, variables, config, trace, null);
  }

  /** As above, with the Vert.x instance that {@code plugin} conditions ask over the event bus. */
  public static Future<AclVerdict> evaluate(AclStage stage, JsonObject variables, AclSettings config,
                                            Consumer<String> trace, io.vertx.core.Vertx vertx) {
    String name = config.aclForStage(stage);
    if (name == null) {
      AclVerdict verdict = defaultVerdict(stage);
      trace.accept("acl " + stage.wire() + ": no ACL defined, default " + verdict.type().wire());
      return Future.succeededFuture(verdict);
    }
    Acl acl = config.acls().get(name);
    return run(acl, new AclContext(variables, config, trace).vertx(vertx).stage(stage));
  }

  /** Exim's verdict for a stage without an ACL: accept, except rcpt, vrfy, expn and etrn. */
  public static AclVerdict defaultVerdict(AclStage stage) {
    return DENY_BY_DEFAULT.contains(stage) ? DEFAULT_DENY : DEFAULT_ACCEPT;
  }

  /** Exim's reply code at the start of a refusal's message: code, optional enhanced code (RFC 3463), text. */
  private static final Pattern MESSAGE_CODE =
      Pattern.compile("([2-5]\\d\\d)(?: ([2-5]\\.\\d{1,3}\\.\\d{1,3}))? (.*)", Pattern.DOTALL);

  /** Runs one ACL to its verdict: the stage's, or one called by an {@code acl} condition. */
  static Future<AclVerdict> run(Acl acl, AclContext context) {
    return runFrom(acl, 0, context, context.trace());
  }

  private static Future<AclVerdict> runFrom(Acl acl, int index, AclContext context, Consumer<String> trace) {
    List<AclRule> rules = acl.rules();
    if (index >= rules.size()) {
      trace.accept(acl.name() + ": end of ACL, implicit deny");
      return Future.succeededFuture(new AclVerdict(AclVerdict.Type.DENY, null, null, null, null,
          acl.name() + " (implicit deny)", context.assignments(), context.effects()));
    }
    AclRule rule = rules.get(index);
    context.clearFailure();
    return testAll(rule.conditions(), 0, context, trace).compose(outcome -> {
      String where = acl.name() + " line " + rule.line();
      trace.accept(where + ": " + rule.verb().name().toLowerCase() + " -> conditions " + outcome.name().toLowerCase());
      if (outcome == AclCondition.Outcome.DEFER && rule.verb() != AclRule.Verb.WARN) {
        return Future.succeededFuture(verdict(AclVerdict.Type.DEFER, rule, context, true, where));
      }
      boolean all = outcome == AclCondition.Outcome.TRUE;
      if (all) {
        applyModifiers(rule, context, trace);
      }
      switch (rule.verb()) {
        case ACCEPT:
          if (all) {
            return Future.succeededFuture(verdict(AclVerdict.Type.ACCEPT, rule, context, false, where));
          }
          break;
        case DENY:
          if (all) {
            return Future.succeededFuture(verdict(AclVerdict.Type.DENY, rule, context, true, where));
          }
          break;
        case DEFER:
          if (all) {
            return Future.succeededFuture(verdict(AclVerdict.Type.DEFER, rule, context, true, where));
          }
          break;
        case DISCARD:
          if (all) {
            return Future.succeededFuture(verdict(AclVerdict.Type.DISCARD, rule, context, false, where));
          }
          break;
        case DROP:
          if (all) {
            return Future.succeededFuture(verdict(AclVerdict.Type.DROP, rule, context, true, where));
          }
          break;
        case REQUIRE:
          if (!all) {
            return Future.succeededFuture(verdict(AclVerdict.Type.DENY, rule, context, true, where));
          }
          break;
        case WARN:
          if (all && rule.logMessage() != null) {
            LOG.info("{}: warn: {}", where, expand(rule.logMessage(), context));
          }
          break;
        default:
          throw new IllegalStateException(rule.verb().name());
      }
      return runFrom(acl, index + 1, context, trace);
    });
  }

  private static Future<AclCondition.Outcome> testAll(List<AclCondition> conditions, int index, AclContext context,
                                                      Consumer<String> trace) {
    if (index >= conditions.size()) {
      return Future.succeededFuture(AclCondition.Outcome.TRUE);
    }
    AclCondition condition = conditions.get(index);
    return condition.test(context).compose(outcome -> {
      trace.accept("  " + condition.describe() + " => " + outcome.name().toLowerCase());
      return outcome == AclCondition.Outcome.TRUE
          ? testAll(conditions, index + 1, context, trace)
          : Future.succeededFuture(outcome);
    });
  }

  /**
   * A failing verify supplies code and text unless the rule has its own {@code message}. As in Exim
   * ({@code smtp_message_code}), a refusal's message may start with its own reply code and enhanced
   * code, {@code "451 4.7.1 Greylisted"}; the session uses them only when the first digit matches
   * the verdict's (a {@code deny} cannot answer 4xx).
   */
  private static AclVerdict verdict(AclVerdict.Type type, AclRule rule, AclContext context, boolean useFailure,
                                    String where) {
    Integer code = useFailure ? context.failureCode() : null;
    String enhanced = useFailure ? context.failureEnhanced() : null;
    String message = expand(rule.message(), context);
    Matcher own = message == null || !useFailure ? null : MESSAGE_CODE.matcher(message);
    if (own != null && own.matches()) {
      code = Integer.parseInt(own.group(1));
      enhanced = own.group(2);
      message = own.group(3);
    }
    if (message == null && useFailure) {
      message = context.failureMessage();
    }
    return new AclVerdict(type, code, enhanced, message, expand(rule.logMessage(), context), where,
        context.assignments(), context.effects());
  }

  private static void applyModifiers(AclRule rule, AclContext context, Consumer<String> trace) {
    rule.sets().forEach((name, value) -> context.set(name, expand(value, context)));
    for (Expansion header : rule.addHeaders()) {
      for (String line : HeaderLines.sanitize(expand(header, context))) {
        trace.accept("  add_header: " + line);
        context.addHeader(line);
      }
    }
    for (String control : rule.controls()) {
      trace.accept("  control = " + control);
      context.control(control);
    }
    if (rule.delayMillis() > 0) {
      trace.accept("  delay = " + rule.delayMillis() + "ms");
      context.delay(rule.delayMillis());
    }
  }

  /** {@code message} and {@code log_message} are expansions: {@code "$local_part is unknown"}. */
  private static String expand(Expansion text, AclContext context) {
    if (text == null) {
      return null;
    }
    try {
      return text.expand(context::variable);
    } catch (ExpansionException e) {
      return text.source();
    }
  }
}
