package org.postern.testing;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.ServerSSLOptions;
import io.vertx.core.net.TrustOptions;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.security.auth.x500.X500Principal;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A real SMTP server on 127.0.0.1 whose behaviour each test scripts: which extensions it offers,
 * which code it answers at each step and for each recipient, where it hangs, closes, resets or
 * sends garbage, which certificate it presents, which credentials it accepts. It records what it
 * received (envelopes with the un-stuffed data, TLS and AUTH facts, command lines and how they
 * were grouped in writes) for assertions. Configure, then {@link #start}.
 */
public final class ScriptedSmtpServer {

  /** The points at which a script can intervene. */
  public enum Step { BANNER, EHLO, HELO, STARTTLS, AUTH, MAIL, RCPT, DATA, DATA_CONTENT, DOT, RSET, QUIT }

  /** What to do instead of the normal answer at a step. */
  public enum Misbehaviour { HANG, CLOSE, RESET, GARBAGE, STALL }

  /** One message as received. */
  public record Envelope(int connection, String sender, String mailParameters, List<String> recipients, byte[] data,
                         boolean tls, String cipher, String clientDn, String authId, String sni) {
    public String text() {
      return new String(data, StandardCharsets.ISO_8859_1);
    }
  }

  /** One command line as received, with the number of the write (socket read) it came in. */
  public record Command(int connection, int chunk, String line, boolean tls) {
  }

  private final Set<String> mechanisms = new LinkedHashSet<>();
  private final Map<String, Integer> rcptCodes = new HashMap<>();
  private final Map<Step, Integer> codes = new HashMap<>();
  private final Map<Step, Misbehaviour> misbehaviours = new HashMap<>();
  private final java.util.Set<String> hangAtDot = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private boolean startTls;
  private boolean implicitTls;
  private final List<String> peers = new java.util.concurrent.CopyOnWriteArrayList<>();
  private boolean brokenTls;
  private boolean pipelining = true;
  private boolean size = true;
  private boolean eightBitMime = true;
  private boolean dsn;
  private boolean chunking;
  private boolean requireTls;
  private boolean ehloRefused;
  private TestPki.Credential certificate;
  private List<String> ciphers = List.of();
  private boolean askClientCertificate;
  private String injectAfterStartTls = "";
  private String user;
  private String secret;

  private final List<Envelope> envelopes = new CopyOnWriteArrayList<>();
  private final List<Command> commands = new CopyOnWriteArrayList<>();
  private final Map<Integer, Integer> messagesPerConnection = Collections.synchronizedMap(new HashMap<>());
  private final AtomicInteger connections = new AtomicInteger();
  private NetServer server;
  private ServerSSLOptions sslOptions;

  public static ScriptedSmtpServer create() {
    return new ScriptedSmtpServer();
  }

  // ---------------------------------------------------------------------------------------------
  // Script

  /** Offers STARTTLS, presenting this certificate (e.g. {@code pki.server()} or a self-signed one). */
  public ScriptedSmtpServer startTls(TestPki.Credential certificate) {
    this.startTls = true;
    this.certificate = certificate;
    return this;
  }

  /** Speaks TLS from the first byte (port 465 style, RFC 8314), presenting this certificate. */
  public ScriptedSmtpServer implicitTls(TestPki.Credential certificate) {
    this.implicitTls = true;
    this.certificate = certificate;
    return this;
  }

  /** Offers STARTTLS and answers 220, but then sends garbage instead of a TLS handshake. */
  public ScriptedSmtpServer brokenStartTls() {
    this.startTls = true;
    this.brokenTls = true;
    return this;
  }

  /**
   * Sends these reply lines in clear right after the 220 to STARTTLS, before the handshake: a
   * man in the middle's attempt to have them taken as answers inside the TLS session.
   */
  public ScriptedSmtpServer injectAfterStartTls(String lines) {
    this.injectAfterStartTls = lines;
    return this;
  }

  /** Restricts the server's cipher suites (JSSE names). */
  public ScriptedSmtpServer ciphers(String... suites) {
    this.ciphers = List.of(suites);
    return this;
  }

  /** Asks for a client certificate (accepting any) and records its subject. */
  public ScriptedSmtpServer askClientCertificate() {
    this.askClientCertificate = true;
    return this;
  }

  /** Refuses MAIL with 530 until TLS is active. */
  public ScriptedSmtpServer requireTls() {
    this.requireTls = true;
    return this;
  }

  /** Offers AUTH with these mechanisms (PLAIN, LOGIN, CRAM-MD5) and accepts exactly these credentials. */
  public ScriptedSmtpServer auth(String user, String secret, String... mechanisms) {
    this.user = user;
    this.secret = secret;
    this.mechanisms.addAll(List.of(mechanisms));
    return this;
  }

  public ScriptedSmtpServer pipelining(boolean on) {
    this.pipelining = on;
    return this;
  }

  public ScriptedSmtpServer size(boolean on) {
    this.size = on;
    return this;
  }

  public ScriptedSmtpServer eightBitMime(boolean on) {
    this.eightBitMime = on;
    return this;
  }

  /**
   * Offers CHUNKING (RFC 3030) and takes BDAT; off by default, when BDAT is an unknown command.
   * A message sent in chunks is recorded as the exact bytes of its chunks.
   */
  public ScriptedSmtpServer chunking(boolean on) {
    this.chunking = on;
    return this;
  }

  /** Offers DSN (RFC 3461) in EHLO; off by default. */
  public ScriptedSmtpServer dsn(boolean on) {
    this.dsn = on;
    return this;
  }

  /** Answers 500 to EHLO (the client must fall back to HELO). */
  public ScriptedSmtpServer refuseEhlo() {
    this.ehloRefused = true;
    return this;
  }

  /** The code answered to RCPT TO for this address (default 250). */
  public ScriptedSmtpServer rcpt(String address, int code) {
    rcptCodes.put(address.toLowerCase(Locale.ROOT), code);
    return this;
  }

  /** The code answered at a step (MAIL, DATA, DOT, RSET, ...) instead of the normal one. */
  public ScriptedSmtpServer reply(Step step, int code) {
    codes.put(step, code);
    return this;
  }

  /** Hangs, closes, resets, sends garbage or stops reading at a step instead of answering. */
  /** Never answers the final dot of a message addressed (among others) to this recipient. */
  public ScriptedSmtpServer hangAtDotFor(String recipient) {
    hangAtDot.add(recipient.toLowerCase(Locale.ROOT));
    return this;
  }

  public ScriptedSmtpServer at(Step step, Misbehaviour what) {
    misbehaviours.put(step, what);
    return this;
  }

  public Future<ScriptedSmtpServer> start(Vertx vertx) {
    return start(vertx, 0);
  }

  /** Listens on {@code port} of 127.0.0.1 (0: any free one), e.g. where a client was refused before. */
  public Future<ScriptedSmtpServer> start(Vertx vertx, int port) {
    NetServerOptions options = new NetServerOptions().setHost("127.0.0.1").setPort(port);
    if (misbehaviours.containsValue(Misbehaviour.RESET)) {
      options.setSoLinger(0);
    }
    if (certificate != null) {
      try {
        PemKeyCertOptions keyCert = new PemKeyCertOptions()
            .setCertValue(Buffer.buffer(TestPki.pem(certificate.certificate())))
            .setKeyValue(Buffer.buffer(TestPki.keyPem(certificate, TestPki.KeyFormat.PKCS8)));
        if (implicitTls) {
          // TLS in the server options: an upgrade after accept would race the client's ClientHello.
          options.setSsl(true).setKeyCertOptions(keyCert).setSni(true);
        }
        sslOptions = new ServerSSLOptions().setKeyCertOptions(keyCert)
            .setClientAuth(askClientCertificate ? ClientAuth.REQUEST : ClientAuth.NONE)
            .setSni(true)
            .setTrustOptions(TrustOptions.wrap(new TrustEverything()));
        ciphers.forEach(sslOptions::addEnabledCipherSuite);
      } catch (IOException e) {
        return Future.failedFuture(e);
      }
    }
    server = vertx.createNetServer(options);
    server.connectHandler(socket -> new Session(socket, connections.incrementAndGet()));
    return server.listen().map(s -> this);
  }

  public int port() {
    return server.actualPort();
  }

  public Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  // ---------------------------------------------------------------------------------------------
  // Record

  public List<Envelope> envelopes() {
    return List.copyOf(envelopes);
  }

  public List<Command> commands() {
    return List.copyOf(commands);
  }

  /** Command lines that start with this verb (case-insensitive), e.g. "MAIL". */
  public List<Command> commands(String verb) {
    return commands.stream().filter(c -> c.line().toUpperCase(Locale.ROOT).startsWith(verb)).toList();
  }

  public int connections() {
    return connections.get();
  }

  /** The client address of each connection, in order. */
  public List<String> peerAddresses() {
    return List.copyOf(peers);
  }

  /** Messages completed (250 after the dot) on each connection, by connection number (1-based). */
  public Map<Integer, Integer> messagesPerConnection() {
    synchronized (messagesPerConnection) {
      return Map.copyOf(messagesPerConnection);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private final class Session {
    private final NetSocket socket;
    private final int number;
    private Buffer pending = Buffer.buffer();
    private boolean inData;
    private boolean dead;
    private boolean tls;
    private String cipher;
    private String clientDn;
    private String sni;
    private String authId;
    private String sender;
    private String mailParameters;
    private final List<String> recipients = new ArrayList<>();
    private Buffer data;
    private int chunk;
    /** Octets of a BDAT chunk still to come, whether it is the last one, and whether it is kept. */
    private long chunkLeft;
    private boolean chunkLast;
    private boolean chunkKept;
    private Consumer<String> continuation;

    Session(NetSocket socket, int number) {
      this.socket = socket;
      this.number = number;
      peers.add(socket.remoteAddress().hostAddress());
      socket.handler(this::feed);
      socket.exceptionHandler(e -> dead = true);
      if (implicitTls) {
        tlsEstablished();
      }
      banner();
    }

    private void banner() {
      if (!intervene(Step.BANNER)) {
        reply(codes.getOrDefault(Step.BANNER, 220) + " scripted.test.example ESMTP");
      }
    }

    private void tlsEstablished() {
      tls = true;
      cipher = socket.sslSession().getCipherSuite();
      sni = socket.indicatedServerName();
      try {
        if (socket.peerCertificates() != null && !socket.peerCertificates().isEmpty()) {
          clientDn = ((X509Certificate) socket.peerCertificates().get(0)).getSubjectX500Principal()
              .getName(X500Principal.RFC2253);
        }
      } catch (SSLPeerUnverifiedException e) {
        // no client certificate
      }
    }

    private void feed(Buffer bytes) {
      if (dead) {
        return;
      }
      chunk++;
      pending.appendBuffer(bytes);
      int start = 0;
      int i = 0;
      while (i < pending.length() && !dead) {
        if (chunkLeft > 0) {
          int n = (int) Math.min(chunkLeft, pending.length() - start);
          if (chunkKept) {
            data.appendBuffer(pending.getBuffer(start, start + n));
          }
          start += n;
          i = start;
          chunkLeft -= n;
          if (chunkLeft == 0) {
            endOfChunk();
          }
          continue;
        }
        if (pending.getByte(i) != '\n') {
          i++;
          continue;
        }
        int end = i > start && pending.getByte(i - 1) == '\r' ? i - 1 : i;
        String line = pending.getString(start, end, "ISO-8859-1");
        Buffer raw = pending.getBuffer(start, i + 1);
        start = i + 1;
        i = start;
        if (inData) {
          dataLine(line, raw);
        } else {
          commands.add(new Command(number, chunk, line, tls));
          command(line);
        }
        if (pending == null) {
          pending = Buffer.buffer(); // TLS upgrade: anything sent after STARTTLS is dropped.
          return;
        }
      }
      pending = pending.getBuffer(start, pending.length());
    }

    /** BDAT n [LAST] (RFC 3030): the chunk is read whatever the answer. */
    private void bdat(String line) {
      String[] words = line.split(" ");
      if (!chunking || words.length < 2 || !words[1].matches("[0-9]{1,18}")) {
        reply(chunking ? "501 5.5.4 bad BDAT" : "500 5.5.1 unrecognized command");
        return;
      }
      chunkLeft = Long.parseLong(words[1]);
      chunkLast = words.length > 2 && words[2].equalsIgnoreCase("LAST");
      chunkKept = !recipients.isEmpty();
      if (chunkKept && data == null) {
        data = Buffer.buffer();
      }
      if (chunkLeft == 0) {
        endOfChunk();
      }
    }

    private void endOfChunk() {
      if (!chunkKept) {
        reply("503 5.5.1 no valid recipients");
      } else if (chunkLast) {
        endOfData();
      } else {
        reply("250 2.0.0 chunk received");
      }
    }

    private void dataLine(String line, Buffer raw) {
      if (data.length() == 0 && intervene(Step.DATA_CONTENT)) {
        return;
      }
      if (line.equals(".")) {
        inData = false;
        endOfData();
        return;
      }
      data.appendBuffer(raw.getByte(0) == '.' ? raw.getBuffer(1, raw.length()) : raw);
    }

    private void endOfData() {
      if (intervene(Step.DOT)) {
        return;
      }
      if (recipients.stream().anyMatch(r -> hangAtDot.contains(r.toLowerCase(Locale.ROOT)))) {
        return;
      }
      int code = codes.getOrDefault(Step.DOT, 250);
      if (code < 300) {
        envelopes.add(new Envelope(number, sender, mailParameters, List.copyOf(recipients), data.getBytes(), tls,
            cipher, clientDn, authId, sni));
        messagesPerConnection.merge(number, 1, Integer::sum);
        reply(code + " 2.0.0 OK id=scripted" + envelopes.size());
      } else {
        reply(code + (code < 500 ? " 4.3.0 try later" : " 5.7.1 message refused"));
      }
      resetTransaction();
    }

    private void command(String line) {
      if (continuation != null) {
        Consumer<String> c = continuation;
        continuation = null;
        c.accept(line);
        return;
      }
      String upper = line.toUpperCase(Locale.ROOT);
      String verb = upper.split(" ", 2)[0];
      switch (verb) {
        case "EHLO" -> ehlo();
        case "HELO" -> {
          if (!intervene(Step.HELO)) {
            reply("250 scripted.test.example");
          }
        }
        case "STARTTLS" -> starttls();
        case "AUTH" -> auth(line);
        case "MAIL" -> mail(line);
        case "RCPT" -> rcpt(line);
        case "DATA" -> data();
        case "BDAT" -> bdat(line);
        case "RSET" -> {
          if (!intervene(Step.RSET)) {
            resetTransaction();
            reply(codes.getOrDefault(Step.RSET, 250) + " 2.0.0 OK");
          }
        }
        case "NOOP" -> reply("250 2.0.0 OK");
        case "QUIT" -> {
          if (!intervene(Step.QUIT)) {
            reply("221 2.0.0 bye");
            socket.close();
          }
        }
        default -> reply("500 5.5.1 unrecognized command");
      }
    }

    private void ehlo() {
      if (intervene(Step.EHLO)) {
        return;
      }
      if (ehloRefused) {
        reply("500 5.5.1 EHLO not understood");
        return;
      }
      List<String> lines = new ArrayList<>();
      lines.add("scripted.test.example Hello");
      if (size) {
        lines.add("SIZE 52428800");
      }
      if (eightBitMime) {
        lines.add("8BITMIME");
      }
      if (chunking) {
        lines.add("CHUNKING");
      }
      if (pipelining) {
        lines.add("PIPELINING");
      }
      if (dsn) {
        lines.add("DSN");
      }
      if (startTls && !tls) {
        lines.add("STARTTLS");
      }
      if (!mechanisms.isEmpty()) {
        lines.add("AUTH " + String.join(" ", mechanisms));
      }
      lines.add("HELP");
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < lines.size(); i++) {
        sb.append("250").append(i == lines.size() - 1 ? ' ' : '-').append(lines.get(i)).append("\r\n");
      }
      socket.write(sb.toString());
    }

    private void starttls() {
      if (intervene(Step.STARTTLS)) {
        return;
      }
      Integer code = codes.get(Step.STARTTLS);
      if (code != null) {
        reply(code + " 4.7.0 TLS not available now");
        return;
      }
      pending = null;
      if (brokenTls) {
        socket.write("220 2.0.0 Ready to start TLS\r\nthis is not a TLS handshake\r\n");
        return;
      }
      socket.upgradeToSsl(sslOptions, null, Buffer.buffer("220 2.0.0 Ready to start TLS\r\n" + injectAfterStartTls)).onComplete(ar -> {
        if (ar.failed()) {
          dead = true;
          socket.close();
          return;
        }
        tlsEstablished();
        resetTransaction();
      });
    }

    private void auth(String line) {
      if (intervene(Step.AUTH)) {
        return;
      }
      String[] words = line.split(" ");
      String mechanism = words.length > 1 ? words[1].toUpperCase(Locale.ROOT) : "";
      String initial = words.length > 2 ? words[2] : null;
      if (!mechanisms.contains(mechanism)) {
        reply("504 5.5.4 mechanism not offered");
        return;
      }
      switch (mechanism) {
        case "PLAIN" -> {
          Consumer<String> check = b64 -> {
            String[] parts = decode(b64).split("\0", -1);
            finishAuth(parts.length == 3 ? parts[1] : "?", parts.length == 3 && parts[1].equals(user)
                && parts[2].equals(secret));
          };
          if (initial == null) {
            continuation = check;
            reply("334 ");
          } else {
            check.accept(initial);
          }
        }
        case "LOGIN" -> {
          Consumer<String> password = name -> {
            continuation = pw -> finishAuth(decode(name), decode(name).equals(user) && decode(pw).equals(secret));
            reply("334 " + b64("Password:"));
          };
          if (initial == null) {
            continuation = password;
            reply("334 " + b64("Username:"));
          } else {
            password.accept(initial);
          }
        }
        default -> {
          String challenge = "<" + System.nanoTime() + "@scripted.test.example>";
          continuation = response -> {
            String text = decode(response);
            int space = text.lastIndexOf(' ');
            String name = space < 0 ? text : text.substring(0, space);
            finishAuth(name, space > 0 && name.equals(user) && text.substring(space + 1).equals(hmac(challenge)));
          };
          reply("334 " + b64(challenge));
        }
      }
    }

    private void finishAuth(String name, boolean ok) {
      if (ok) {
        authId = name;
        reply("235 2.7.0 Authentication succeeded");
      } else {
        reply("535 5.7.8 Authentication credentials invalid");
      }
    }

    private void mail(String line) {
      if (intervene(Step.MAIL)) {
        return;
      }
      if (requireTls && !tls) {
        reply("530 5.7.0 Must issue a STARTTLS command first");
        return;
      }
      Integer code = codes.get(Step.MAIL);
      if (code != null) {
        reply(code + (code < 500 ? " 4.3.0 sender deferred" : " 5.1.0 sender refused"));
        return;
      }
      int open = line.indexOf('<');
      int close = line.indexOf('>', open + 1);
      sender = line.substring(open + 1, close);
      mailParameters = line.substring(close + 1).strip();
      recipients.clear();
      reply("250 2.1.0 OK");
    }

    private void rcpt(String line) {
      if (intervene(Step.RCPT)) {
        return;
      }
      if (sender == null) {
        reply("503 5.5.1 MAIL first");
        return;
      }
      int open = line.indexOf('<');
      String address = line.substring(open + 1, line.indexOf('>', open + 1));
      int code = rcptCodes.getOrDefault(address.toLowerCase(Locale.ROOT), codes.getOrDefault(Step.RCPT, 250));
      if (code < 300) {
        recipients.add(address);
        reply(code + " 2.1.5 OK");
      } else {
        reply(code + (code < 500 ? " 4.2.0 <" + address + "> try later" : " 5.1.1 <" + address + "> unknown user"));
      }
    }

    private void data() {
      if (intervene(Step.DATA)) {
        return;
      }
      Integer code = codes.get(Step.DATA);
      if (code != null) {
        reply(code + (code < 500 ? " 4.3.0 not now" : " 5.7.1 no data for you"));
        return;
      }
      if (recipients.isEmpty()) {
        reply("554 5.5.1 no valid recipients");
        return;
      }
      inData = true;
      data = Buffer.buffer();
      reply("354 go ahead");
    }

    /** Applies the scripted misbehaviour of a step; true when the normal answer must not be given. */
    private boolean intervene(Step step) {
      Misbehaviour m = misbehaviours.get(step);
      if (m == null) {
        return false;
      }
      switch (m) {
        case HANG -> dead = true;
        case CLOSE, RESET -> {
          dead = true;
          socket.close();
        }
        case GARBAGE -> socket.write("this is no SMTP reply\r\n");
        case STALL -> {
          // Stop reading: the client's writes back up (TCP flow control) until it gives up.
          dead = true;
          socket.pause();
        }
      }
      return true;
    }

    private void resetTransaction() {
      sender = null;
      mailParameters = null;
      recipients.clear();
      data = null;
    }

    private void reply(String line) {
      socket.write(line + "\r\n");
    }

    private String hmac(String challenge) {
      try {
        Mac mac = Mac.getInstance("HmacMD5");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacMD5"));
        return HexFormat.of().formatHex(mac.doFinal(challenge.getBytes(StandardCharsets.US_ASCII)));
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private static String decode(String b64) {
    try {
      return new String(Base64.getDecoder().decode(b64.strip()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return "";
    }
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
