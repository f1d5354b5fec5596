package org.postern.testing;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramPacket;
import io.vertx.core.datagram.DatagramSocket;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A tiny authoritative DNS server for tests, on a Vert.x UDP socket bound to 127.0.0.1 on a free
 * port. It answers A, AAAA, TXT and MX from what the test put in, NXDOMAIN for names it has never
 * heard of, an empty answer (NODATA) for known names without records of the asked type, SERVFAIL
 * for names marked {@link #servfail}, and nothing at all for names marked {@link #silent}. The wire
 * format (RFC 1035 section 4) is written here; answers point back at the question's name.
 */
public final class TestDnsServer implements AutoCloseable {
  private static final int TYPE_A = 1;
  private static final int TYPE_MX = 15;
  private static final int TYPE_TXT = 16;
  private static final int TYPE_AAAA = 28;
  private static final int CLASS_IN = 1;
  private static final int RCODE_FORMERR = 1;
  private static final int RCODE_SERVFAIL = 2;
  private static final int RCODE_NXDOMAIN = 3;
  private static final int RCODE_NOTIMP = 4;

  /** One resource record's type and RDATA. */
  private record Rdata(int type, byte[] data) {
  }

  private final DatagramSocket socket;
  /** The Vert.x this server made for itself ({@link #start()}), closed with it; null when lent one. */
  private Vertx owned;
  private final Map<String, List<Rdata>> records = new ConcurrentHashMap<>();
  private final Set<String> servfail = ConcurrentHashMap.newKeySet();
  private final Set<String> silent = ConcurrentHashMap.newKeySet();
  private final List<String> queries = new CopyOnWriteArrayList<>();

  private TestDnsServer(DatagramSocket socket) {
    this.socket = socket;
  }

  /** As {@link #start(Vertx)}, on a Vert.x of its own that {@link #close()} closes too. */
  public static TestDnsServer start() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      TestDnsServer server = start(vertx);
      server.owned = vertx;
      return server;
    } catch (Exception e) {
      vertx.close();
      throw e;
    }
  }

  /** Binds 127.0.0.1 on a random port and serves until {@link #close()}. */
  public static TestDnsServer start(Vertx vertx) throws Exception {
    DatagramSocket socket = vertx.createDatagramSocket();
    TestDnsServer server = new TestDnsServer(socket);
    socket.handler(server::handle);
    socket.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    return server;
  }

  public int port() {
    return socket.localAddress().port();
  }

  /** {@code dns_servers} value for this server. */
  public String address() {
    return "127.0.0.1:" + port();
  }

  public TestDnsServer a(String name, String... ips) {
    for (String ip : ips) {
      add(name, TYPE_A, address(ip, 4));
    }
    return this;
  }

  public TestDnsServer aaaa(String name, String... ips) {
    for (String ip : ips) {
      add(name, TYPE_AAAA, address(ip, 16));
    }
    return this;
  }

  /** One TXT record; texts longer than 255 bytes are split into several character-strings, as RFC 1035 requires. */
  public TestDnsServer txt(String name, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    Buffer b = Buffer.buffer();
    int i = 0;
    do {
      int n = Math.min(255, bytes.length - i);
      b.appendByte((byte) n).appendBytes(bytes, i, n);
      i += n;
    } while (i < bytes.length);
    add(name, TYPE_TXT, b.getBytes());
    return this;
  }

  public TestDnsServer mx(String name, int preference, String exchange) {
    Buffer b = Buffer.buffer().appendUnsignedShort(preference);
    writeName(b, exchange);
    add(name, TYPE_MX, b.getBytes());
    return this;
  }

  /** Answers SERVFAIL for this name, whatever records it has. */
  public TestDnsServer servfail(String name) {
    servfail.add(key(name));
    return this;
  }

  /** Never answers for this name: the client times out. */
  public TestDnsServer silent(String name) {
    silent.add(key(name));
    return this;
  }

  /** Back to answering from the records. */
  public TestDnsServer answer(String name) {
    servfail.remove(key(name));
    silent.remove(key(name));
    return this;
  }

  /** The names asked so far, lower case without the final dot, in order, one per query packet. */
  public List<String> queries() {
    return List.copyOf(queries);
  }

  @Override
  public void close() throws Exception {
    socket.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    if (owned != null) {
      owned.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private void add(String name, int type, byte[] data) {
    records.computeIfAbsent(key(name), k -> new CopyOnWriteArrayList<>()).add(new Rdata(type, data));
  }

  private static String key(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
  }

  private static byte[] address(String ip, int length) {
    try {
      byte[] bytes = InetAddress.getByName(ip).getAddress();
      if (bytes.length != length || !(ip.indexOf(':') >= 0 == (length == 16))) {
        throw new IllegalArgumentException("not an IPv" + (length == 4 ? 4 : 6) + " address: " + ip);
      }
      return bytes;
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(ip, e);
    }
  }

  private void handle(DatagramPacket packet) {
    Buffer query = packet.data();
    Buffer reply;
    try {
      reply = answer(query);
    } catch (RuntimeException e) {
      // A query we cannot read still gets FORMERR when it has an id to answer to.
      if (query.length() < 12) {
        return;
      }
      reply = header(query.getUnsignedShort(0), query.getUnsignedShort(2), RCODE_FORMERR, 0, 0);
    }
    if (reply != null) {
      socket.send(reply, packet.sender().port(), packet.sender().host());
    }
  }

  /** The reply to one query, or null to stay silent. */
  private Buffer answer(Buffer query) {
    int id = query.getUnsignedShort(0);
    int flags = query.getUnsignedShort(2);
    int qdcount = query.getUnsignedShort(4);
    if ((flags & 0x8000) != 0 || qdcount != 1) {
      throw new IllegalArgumentException("not a single-question query");
    }
    StringBuilder name = new StringBuilder();
    int pos = 12;
    while (true) {
      int len = query.getUnsignedByte(pos++);
      if (len == 0) {
        break;
      }
      if (len > 63) {
        throw new IllegalArgumentException("compressed or bad label in a question");
      }
      if (name.length() > 0) {
        name.append('.');
      }
      name.append(query.getString(pos, pos + len, "ISO-8859-1"));
      pos += len;
    }
    int qtype = query.getUnsignedShort(pos);
    int qclass = query.getUnsignedShort(pos + 2);
    int questionEnd = pos + 4;
    String key = key(name.toString());
    queries.add(key);
    if (silent.contains(key)) {
      return null;
    }
    int opcode = (flags >> 11) & 0xf;
    Buffer question = query.getBuffer(12, questionEnd);
    if (opcode != 0 || qclass != CLASS_IN) {
      return header(id, flags, RCODE_NOTIMP, 1, 0).appendBuffer(question);
    }
    if (servfail.contains(key)) {
      return header(id, flags, RCODE_SERVFAIL, 1, 0).appendBuffer(question);
    }
    List<Rdata> all = records.get(key);
    if (all == null) {
      return header(id, flags, RCODE_NXDOMAIN, 1, 0).appendBuffer(question);
    }
    List<Rdata> matching = new ArrayList<>();
    for (Rdata r : all) {
      if (r.type() == qtype) {
        matching.add(r);
      }
    }
    Buffer reply = header(id, flags, 0, 1, matching.size()).appendBuffer(question);
    for (Rdata r : matching) {
      reply.appendUnsignedShort(0xC000 | 12) // pointer to the question's name
          .appendUnsignedShort(r.type()).appendUnsignedShort(CLASS_IN)
          .appendUnsignedInt(60).appendUnsignedShort(r.data().length).appendBytes(r.data());
    }
    return reply;
  }

  /** A response header: QR and AA set, RD copied from the query. */
  private static Buffer header(int id, int queryFlags, int rcode, int qdcount, int ancount) {
    int flags = 0x8000 | 0x0400 | (queryFlags & 0x7800) | (queryFlags & 0x0100) | rcode;
    return Buffer.buffer().appendUnsignedShort(id).appendUnsignedShort(flags).appendUnsignedShort(qdcount)
        .appendUnsignedShort(ancount).appendUnsignedShort(0).appendUnsignedShort(0);
  }

  private static void writeName(Buffer b, String name) {
    for (String label : key(name).split("\\.")) {
      if (label.isEmpty()) {
        // The root (".", as in a null MX) is just the terminating zero.
        continue;
      }
      byte[] bytes = label.getBytes(StandardCharsets.US_ASCII);
      b.appendByte((byte) bytes.length).appendBytes(bytes);
    }
    b.appendByte((byte) 0);
  }
}
