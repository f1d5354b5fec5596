package org.postern.policy;

import io.vertx.core.json.JsonObject;
import org.postern.bus.AclEffects;

/**
 * What a condition may look at: the session's variables ({@code sender_host_address},
 * {@code local_part}, {@code domain}, {@code authenticated_id}, ...) and the configuration in force.
 * A failed {@code verify} leaves its reply here so the rule's verdict can carry it.
 */
public final class AclContext {
  private final JsonObject variables;
  private final AclSettings config;
  private Integer failureCode;
  private String failureEnhanced;
  private String failureMessage;
  private final java.util.function.Consumer<String> trace;
  private int depth;
  private final JsonObject set = new JsonObject();
  private io.vertx.core.Vertx vertx;
  private final java.util.List<String> headers = new java.util.ArrayList<>();
  private final java.util.List<String> controls = new java.util.ArrayList<>();
  private long delayMillis;
  private org.postern.bus.AclStage stage;

  public AclContext(JsonObject variables, AclSettings config) {
    this(variables, config, line -> { });
  }

  AclContext(JsonObject variables, AclSettings config, java.util.function.Consumer<String> trace) {
    this.variables = variables;
    this.config = config;
    this.trace = trace;
  }

  /** The Vert.x instance plugin conditions are asked through; null where none is (pure tests). */
  io.vertx.core.Vertx vertx() {
    return vertx;
  }

  AclContext vertx(io.vertx.core.Vertx v) {
    this.vertx = v;
    return this;
  }

  /** The stage being evaluated, or null (a pure test of one condition). */
  org.postern.bus.AclStage stage() {
    return stage;
  }

  AclContext stage(org.postern.bus.AclStage s) {
    this.stage = s;
    return this;
  }

  /** Where evaluation steps are reported ({@code -bh}); a no-op normally. */
  java.util.function.Consumer<String> trace() {
    return trace;
  }

  /** Enters a called ACL; false when nesting is already {@link AclCallCondition#MAX_DEPTH} deep. */
  boolean enter() {
    if (depth >= AclCallCondition.MAX_DEPTH) {
      return false;
    }
    depth++;
    return true;
  }

  void leave() {
    depth--;
  }

  public String variable(String name) {
    Object v = variables.getValue(name);
    return v == null ? null : String.valueOf(v);
  }

  public JsonObject variables() {
    return variables;
  }

  public AclSettings config() {
    return config;
  }

  /**
   * A variable a condition computes for the rest of this evaluation ({@code $dnslist_domain},
   * {@code $sender_rate}, ...);
   * unlike {@link #set} it is not returned to the session.
   */
  void put(String name, String value) {
    variables.put(name, value);
  }

  /** {@code set acl_c*|acl_m*}: visible to the rest of this evaluation and returned to the session. */
  void set(String name, String value) {
    variables.put(name, value);
    set.put(name, value);
  }

  JsonObject assignments() {
    return set;
  }

  void addHeader(String line) {
    headers.add(line);
  }

  void control(String control) {
    controls.add(control);
  }

  void delay(long millis) {
    delayMillis += millis;
  }

  AclEffects effects() {
    return headers.isEmpty() && controls.isEmpty() && delayMillis == 0 ? AclEffects.NONE
        : new AclEffects(headers, controls, delayMillis);
  }

  /** Each rule starts without the verification failure of an earlier one. */
  void clearFailure() {
    failureCode = null;
    failureEnhanced = null;
    failureMessage = null;
  }

  /** Records why a verification failed, e.g. 550 5.1.1 Unknown user. */
  public void verifyFailed(int code, String enhanced, String message) {
    this.failureCode = code;
    this.failureEnhanced = enhanced;
    this.failureMessage = message;
  }

  /**
   * A reply text a plugin condition offered: used as a failed verification's text is, when the
   * rule decides and has no {@code message} of its own.
   */
  void explain(String message) {
    this.failureMessage = message;
  }

  Integer failureCode() {
    return failureCode;
  }

  String failureEnhanced() {
    return failureEnhanced;
  }

  String failureMessage() {
    return failureMessage;
  }
}
