package org.postern.plugins.milter;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Function;

/**
 * A scripted milter for tests: a loopback TCP server that speaks the milter protocol from the
 * milter's side, independently of Postern's client code (blocking sockets, its own framing). It
 * negotiates version 6 with the protocol flags it is given, records every packet it receives, and
 * answers each command that expects an answer with what the script returns: zero or more packets
 * (raw bytes, so a test can send malformed ones), or {@link #CLOSE} to drop the connection.
 */
final class FakeMilter implements AutoCloseable {
  /** One packet received: its command byte and data. */
  record Packet(char command, byte[] data) {
    /** The data's NUL-terminated strings (the macro packet's first byte is its command). */
    List<String> strings() {
      List<String> out = new ArrayList<>();
      int start = command == 'D' ? 1 : 0;
      for (int i = start; i < data.length; i++) {
        if (data[i] == 0) {
          out.add(new String(data, start, i - start, StandardCharsets.UTF_8));
          start = i + 1;
        }
      }
      return out;
    }

    String text() {
      return new String(data, StandardCharsets.UTF_8);
    }
  }

  /** A script's answer that closes the connection instead of replying. */
  static final List<byte[]> CLOSE = List.of();
  /** A script's answer that sends nothing and keeps the connection (a milter that hangs). */
  static final List<byte[]> SILENCE = new ArrayList<>();

  private final ServerSocket server;
  private final int protocol;
  private final Function<Packet, List<byte[]>> script;
  private final List<Packet> received = new CopyOnWriteArrayList<>();
  private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
  private final Thread acceptor;

  /**
   * @param protocol the SMFIP_* flags it asks for in the negotiation
   * @param script   the answer to each command that expects one (not D, A, Q); null means continue
   */
  FakeMilter(int protocol, Function<Packet, List<byte[]>> script) throws IOException {
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.protocol = protocol;
    this.script = script;
    this.acceptor = new Thread(this::acceptLoop, "fake-milter");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  String address() {
    return "inet:127.0.0.1:" + port();
  }

  /** Every packet received so far, from every connection, in order. */
  List<Packet> received() {
    return received;
  }

  /** The packets with this command byte. */
  List<Packet> received(char command) {
    return received.stream().filter(p -> p.command() == command).toList();
  }

  /** Waits for a command to arrive (its letter) or a connection to end ("closed"), with a deadline. */
  void await(String event, long millis) throws InterruptedException {
    long end = System.currentTimeMillis() + millis;
    while (System.currentTimeMillis() < end) {
      String e = events.poll(Math.max(1, end - System.currentTimeMillis()), java.util.concurrent.TimeUnit.MILLISECONDS);
      if (event.equals(e)) {
        return;
      }
    }
    throw new AssertionError("the fake milter did not see " + event + " within " + millis + " ms; got " + received);
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        Thread t = new Thread(() -> serve(s), "fake-milter-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket s) {
    try (s; DataInputStream in = new DataInputStream(s.getInputStream());
         DataOutputStream out = new DataOutputStream(s.getOutputStream())) {
      while (true) {
        int length = in.readInt();
        char command = (char) in.readUnsignedByte();
        byte[] data = new byte[length - 1];
        in.readFully(data);
        Packet p = new Packet(command, data);
        received.add(p);
        events.add(String.valueOf(command));
        if (command == 'O') {
          int actions = java.nio.ByteBuffer.wrap(data, 4, 4).getInt();
          out.write(packet('O', java.nio.ByteBuffer.allocate(12).putInt(6).putInt(actions).putInt(protocol).array()));
          out.flush();
          continue;
        }
        if (command == 'D' || command == 'A') {
          continue;
        }
        if (command == 'Q') {
          return;
        }
        if (noReply(command)) {
          continue;
        }
        List<byte[]> answer = script == null ? null : script.apply(p);
        if (answer == CLOSE) {
          return;
        }
        if (answer == null) {
          answer = List.of(packet('c'));
        }
        for (byte[] b : answer) {
          out.write(b);
        }
        out.flush();
      }
    } catch (IOException e) {
      // The peer went away.
    } finally {
      events.add("closed");
    }
  }

  private boolean noReply(char command) {
    int bit = switch (command) {
      case 'C' -> 1 << 12;
      case 'H' -> 1 << 13;
      case 'M' -> 1 << 14;
      case 'R' -> 1 << 15;
      case 'T' -> 1 << 16;
      case 'L' -> 1 << 7;
      case 'N' -> 1 << 18;
      case 'B' -> 1 << 19;
      default -> 0;
    };
    return (protocol & bit) != 0;
  }

  /** A packet: length, command, data. */
  static byte[] packet(char code, byte[] data) {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(5 + data.length);
    b.putInt(1 + data.length).put((byte) code).put(data);
    return b.array();
  }

  static byte[] packet(char code) {
    return packet(code, new byte[0]);
  }

  /** A packet of NUL-terminated strings, after an optional 32-bit index. */
  static byte[] packet(char code, Integer index, String... strings) {
    java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
    if (index != null) {
      data.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(index).array());
    }
    for (String s : strings) {
      data.writeBytes(s.getBytes(StandardCharsets.UTF_8));
      data.write(0);
    }
    return packet(code, data.toByteArray());
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
