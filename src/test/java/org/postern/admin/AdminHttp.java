package org.postern.admin;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.TimeUnit;

/**
 * A client of the admin API for tests: Vert.x's HTTP client over a real socket, from a chosen
 * source address (127.0.0.2, or a non-loopback address of this machine), with or without a token.
 */
final class AdminHttp implements AutoCloseable {
  /** One answer: status, JSON body (empty when not JSON) and the raw text. */
  record Answer(int status, JsonObject json, String text, String authenticate) {
    @Override
    public String toString() {
      return status + " " + text;
    }
  }

  private final Vertx vertx;
  private final HttpClient client;
  private final String host;
  private final int port;
  private String token;

  private AdminHttp(Vertx vertx, String sourceAddress, String host, int port) {
    this.vertx = vertx;
    HttpClientOptions options = new HttpClientOptions();
    if (sourceAddress != null) {
      options.setLocalAddress(sourceAddress);
    }
    this.client = vertx.createHttpClient(options);
    this.host = host;
    this.port = port;
  }

  static AdminHttp to(int port) {
    return new AdminHttp(Vertx.vertx(), null, "127.0.0.1", port);
  }

  /** From {@code sourceAddress} to {@code host:port}. */
  static AdminHttp from(String sourceAddress, String host, int port) {
    return new AdminHttp(Vertx.vertx(), sourceAddress, host, port);
  }

  AdminHttp token(String bearer) {
    this.token = bearer;
    return this;
  }

  Answer get(String uri) throws Exception {
    return send(HttpMethod.GET, uri);
  }

  Answer post(String uri) throws Exception {
    return send(HttpMethod.POST, uri);
  }

  /** With {@code header: value} too ({@code Origin}, or a {@code Host} that replaces the usual one). */
  Answer send(HttpMethod method, String uri, String header, String value) throws Exception {
    return send(new RequestOptions().putHeader(header, value), method, uri);
  }

  Answer send(HttpMethod method, String uri) throws Exception {
    return send(new RequestOptions(), method, uri);
  }

  private Answer send(RequestOptions options, HttpMethod method, String uri) throws Exception {
    options.setMethod(method).setHost(host).setPort(port).setURI(uri);
    if (token != null) {
      options.putHeader("Authorization", "Bearer " + token);
    }
    return client.request(options)
        .compose(req -> req.send().compose(resp -> resp.body().map(body -> answer(resp.statusCode(), body,
            resp.getHeader("WWW-Authenticate")))))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static Answer answer(int status, Buffer body, String authenticate) {
    String text = body.toString();
    JsonObject json;
    try {
      json = text.startsWith("{") ? new JsonObject(text) : new JsonObject();
    } catch (RuntimeException notJson) {
      json = new JsonObject();
    }
    return new Answer(status, json, text, authenticate);
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
