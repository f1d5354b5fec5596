package org.postern.session;

import io.vertx.core.Handler;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.eventbus.EventBus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postern.acl.AclVerticle;
import org.postern.bus.Addresses;
import org.postern.listener.ListenerVerticle;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.SmtpTestClient.Reply;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Session and ACL verticles on several event loops: a session's commands always reach the
 * instance that holds it, whatever the instance counts (the bus used to round-robin them to
 * instances that did not know the session: 451 and close), and with as many instances as event
 * loops they run on the connection's own event loop.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class SessionInstancesTest {
  private static final int SESSIONS = 200;
  /** Vert.x's default event-loop pool: what "auto" deploys. */
  private static final int LOOPS = 2 * Runtime.getRuntime().availableProcessors();

  /**
   * No queue: what the sessions accepted stays in the spool, whose directory the queue would have
   * made. A fixed port, because listener instances share a port only when it is not 0: then Vert.x
   * spreads the connections over all of them, and so over every event loop.
   */
  private static PosternTestServer server(int sessions, int acls, int listeners) throws Exception {
    PosternTestServer s = PosternTestServer.create();
    java.nio.file.Files.createDirectories(s.spoolInput());
    int port;
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    return s.option("listeners", "{ smtp: { address: 127.0.0.1, port: " + port + " } }")
        .without("org.postern.queue.QueueVerticle")
        .option("smtp_accept_max_per_host", "0")
        .instances(SessionVerticle.class.getName(), sessions)
        .instances(AclVerticle.class.getName(), acls)
        .instances(ListenerVerticle.class.getName(), listeners);
  }

  /** One whole transaction; returns the queue id of the accepted message. */
  private static String transaction(int port, int n) throws Exception {
    try (SmtpTestClient c = SmtpTestClient.connect(port)) {
      expect(220, c.reply());
      expect(250, c.command("EHLO client" + n + ".example"));
      expect(250, c.command("MAIL FROM:<sender" + n + "@client.example>"));
      expect(250, c.command("RCPT TO:<alice@test.example>"));
      expect(354, c.command("DATA"));
      Reply done = c.command("Subject: message " + n + "\r\n\r\nbody " + n + "\r\n.");
      expect(250, done);
      expect(221, c.command("QUIT"));
      String text = done.text();
      return text.substring(text.indexOf("id=") + 3).strip();
    }
  }

  private static void expect(int code, Reply r) {
    if (r.code() != code) {
      throw new AssertionError("expected " + code + ", got " + r);
    }
  }

  /** 200 concurrent real-socket sessions, each ending with its message in the spool. */
  @ParameterizedTest(name = "{0} session, ACL and listener instances")
  @ValueSource(ints = {1, 2, 4})
  void concurrentSessionsAllSucceed(int instances) throws Exception {
    try (PosternTestServer s = server(instances, instances, instances).start()) {
      ExecutorService clients = Executors.newFixedThreadPool(SESSIONS);
      try {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<String>> results = new ArrayList<>();
        for (int i = 0; i < SESSIONS; i++) {
          int n = i;
          Callable<String> session = () -> {
            go.await();
            return transaction(s.port(), n);
          };
          results.add(clients.submit(session));
        }
        go.countDown();
        List<String> failures = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (Future<String> r : results) {
          try {
            ids.add(r.get(120, TimeUnit.SECONDS));
          } catch (java.util.concurrent.ExecutionException e) {
            failures.add(String.valueOf(e.getCause()));
          }
        }
        assertEquals(List.of(), failures, "every session must get the replies the policy gives");
        List<String> spool = s.spoolFiles();
        for (String id : ids) {
          assertTrue(spool.contains(id + "-D") && spool.contains(id + "-H"), () -> id + " is not in the spool");
        }
        assertEquals(SESSIONS, ids.stream().distinct().count());
      } finally {
        clients.shutdownNow();
      }
    }
  }

  /**
   * Compares the thread that sent each session command and ACL check (the connection's, the
   * session's) with the thread its reply was sent from, i.e. the one the handler ran on: replies
   * pass the outbound interceptors too, addressed to the request's reply address.
   */
  private static final class Hops {
    final Map<String, Thread> requestedFrom = new ConcurrentHashMap<>();
    final AtomicInteger answered = new AtomicInteger();
    final AtomicInteger hopped = new AtomicInteger();

    void watch(EventBus bus) {
      Handler<DeliveryContext<Object>> out = ctx -> {
        String address = ctx.message().address();
        if (address.startsWith(Addresses.SESSION_COMMAND + ".") || address.startsWith(Addresses.ACL_CHECK + ".")) {
          requestedFrom.put(ctx.message().replyAddress(), Thread.currentThread());
        } else {
          Thread requester = requestedFrom.remove(address);
          if (requester != null) {
            answered.incrementAndGet();
            if (requester != Thread.currentThread()) {
              hopped.incrementAndGet();
            }
          }
        }
        ctx.next();
      };
      bus.addOutboundInterceptor(out);
    }
  }

  private static void sessions(PosternTestServer s, int count) throws Exception {
    for (int i = 0; i < count; i++) {
      transaction(s.port(), i);
    }
  }

  /** As many instances of each as event loops (the shipped "auto"): no command and no ACL check changes thread. */
  @Test
  void sessionAndAclRunOnTheConnectionsEventLoop() throws Exception {
    try (PosternTestServer s = server(LOOPS, LOOPS, LOOPS).start()) {
      Hops hops = new Hops();
      hops.watch(s.vertx().eventBus());
      sessions(s, 3 * LOOPS);
      assertTrue(hops.answered.get() >= 3 * LOOPS * 6, "commands and ACL checks were seen: " + hops.answered);
      assertEquals(0, hops.hopped.get(), "requests answered on another thread than they were sent from");
    }
  }

  /** The probe above can see a hop: with one session instance, connections on the other loops do hop. */
  @Test
  void oneSessionInstanceServesEveryLoopByHopping() throws Exception {
    try (PosternTestServer s = server(1, LOOPS, LOOPS).start()) {
      Hops hops = new Hops();
      hops.watch(s.vertx().eventBus());
      sessions(s, 3 * LOOPS);
      assertTrue(hops.hopped.get() > 0, "a single session instance must be reached from other loops");
    }
  }
}
