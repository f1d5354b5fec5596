package org.postern.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.parsetools.RecordParser;
import org.postern.listener.SharedServerSslFix;
import org.postern.testing.TestPki;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A discard SMTP sink with STARTTLS on 127.0.0.1, for the TLS variant of {@code src/bench/relay-load.sh}:
 * Postfix's {@code smtp-sink} cannot speak STARTTLS, so relaying to it never measures encrypted delivery.
 * Answers every transaction with 250 and throws the message away; pipelined commands are fine.
 * <pre>
 * java -cp target/postern.jar:target/test-classes org.postern.bench.TlsSmtpSink PORT [EVENT_LOOPS]
 * </pre>
 * Prints "tls sink listening on PORT" when ready and the number of messages received on exit.
 */
public final class TlsSmtpSink {
  private static final Buffer GREETING = reply("220 tls-sink ESMTP");
  private static final Buffer OK = reply("250 2.0.0 OK");
  private static final Buffer GO_AHEAD = reply("354 End data with <CR><LF>.<CR><LF>");
  private static final Buffer READY_FOR_TLS = reply("220 2.0.0 Ready to start TLS");
  private static final Buffer EHLO_FIRST = reply("503 5.5.1 EHLO first");
  private static final Buffer NO_TLS = reply("503 5.5.1 TLS already active");
  private static final Buffer UNKNOWN = reply("502 5.5.2 Command not implemented");
  private static final Buffer BYE = reply("221 2.0.0 Bye");
  private static final String EHLO = "250-tls-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250";
  private static final Buffer EHLO_CLEAR = Buffer.buffer(EHLO + "-SIZE 104857600\r\n250 STARTTLS\r\n");
  private static final Buffer EHLO_TLS = Buffer.buffer(EHLO + " SIZE 104857600\r\n");

  private final AtomicLong messages = new AtomicLong();

  private TlsSmtpSink() {
  }

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int loops = args.length > 1 ? Integer.parseInt(args[1]) : 1;
    TestPki.Credential credential = TestPki.create().server();
    PemKeyCertOptions pem = new PemKeyCertOptions()
        .setCertValue(Buffer.buffer(TestPki.pem(credential.certificate())))
        .setKeyValue(Buffer.buffer(TestPki.keyPem(credential, TestPki.KeyFormat.PKCS8)));
    TlsSmtpSink sink = new TlsSmtpSink();
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(loops));
    Runtime.getRuntime().addShutdownHook(new Thread(
        () -> System.out.println("tls sink received " + sink.messages.get() + " messages")));
    // One server per event loop: from the main thread, each listen() gets a context of its own.
    List<Future<NetServer>> listening = new ArrayList<>();
    for (int i = 0; i < loops; i++) {
      NetServerOptions options = new NetServerOptions().setHost("127.0.0.1").setPort(port)
          .setTcpNoDelay(true).setAcceptBacklog(1024).setKeyCertOptions(pem);
      // Vert.x 5.0.7 gives only the first server on a port what upgradeToSsl needs.
      listening.add(vertx.createNetServer(options).connectHandler(sink::session).listen()
          .onSuccess(SharedServerSslFix::apply));
    }
    Future.all(listening).await();
    System.out.println("tls sink listening on " + port);
  }

  private void session(NetSocket socket) {
    socket.write(GREETING);
    new Session(socket).start();
  }

  /** One SMTP session; a new one replaces it after STARTTLS, so nothing sent in clear survives the upgrade. */
  private final class Session {
    private final NetSocket socket;
    private final RecordParser lines = RecordParser.newDelimited("\r\n", this::line);
    private boolean greeted;
    private boolean inData;

    Session(NetSocket socket) {
      this.socket = socket;
    }

    void start() {
      socket.handler(lines);
    }

    private void line(Buffer line) {
      if (inData) {
        // Dot-stuffing keeps a lone "." for the end of the message.
        if (line.length() == 1 && line.getByte(0) == '.') {
          inData = false;
          messages.incrementAndGet();
          socket.write(OK);
        }
        return;
      }
      String text = line.toString(StandardCharsets.ISO_8859_1);
      int space = text.indexOf(' ');
      switch ((space < 0 ? text : text.substring(0, space)).toUpperCase(Locale.ROOT)) {
        case "EHLO" -> {
          greeted = true;
          socket.write(socket.isSsl() ? EHLO_TLS : EHLO_CLEAR);
        }
        case "HELO" -> {
          greeted = true;
          socket.write(reply("250 tls-sink"));
        }
        case "STARTTLS" -> startTls();
        case "MAIL", "RCPT" -> socket.write(greeted ? OK : EHLO_FIRST);
        case "DATA" -> {
          inData = greeted;
          socket.write(greeted ? GO_AHEAD : EHLO_FIRST);
        }
        case "RSET", "NOOP" -> socket.write(OK);
        case "QUIT" -> socket.end(BYE);
        default -> socket.write(UNKNOWN);
      }
    }

    private void startTls() {
      if (socket.isSsl()) {
        socket.write(NO_TLS);
        return;
      }
      // Whatever followed STARTTLS in this read was sent in clear: this parser never emits it.
      lines.pause();
      socket.upgradeToSsl(READY_FOR_TLS)
          .onSuccess(v -> new Session(socket).start())
          .onFailure(e -> socket.close());
    }
  }

  private static Buffer reply(String text) {
    return Buffer.buffer(text + "\r\n");
  }
}
