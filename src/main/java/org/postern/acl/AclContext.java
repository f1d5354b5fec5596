package org.postern.acl;

import io.vertx.core.json.JsonObject;
import org.postern.config.PosternConfig;

/**
 * What a condition may look at: the session's variables ({@code sender_host_address},
 * {@code local_part}, {@code domain}, {@code authenticated_id}, ...) and the configuration in force.
 * A failed {@code verify} leaves its reply here so the rule's verdict can carry it.
 */
public final class AclContext {
  private final JsonObject variables;
  private final PosternConfig config;
  private Integer failureCode;
  private String failureEnhanced;
  private String failureMessage;

  public AclContext(JsonObject variables, PosternConfig config) {
    this.variables = variables;
    this.config = config;
  }

  public String variable(String name) {
    Object v = variables.getValue(name);
    return v == null ? null : String.valueOf(v);
  }

  public JsonObject variables() {
    return variables;
  }

  public PosternConfig config() {
    return config;
  }

  /** Records why a verification failed, e.g. 550 5.1.1 Unknown user. */
  public void verifyFailed(int code, String enhanced, String message) {
    this.failureCode = code;
    this.failureEnhanced = enhanced;
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
