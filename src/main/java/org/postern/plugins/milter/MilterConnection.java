package org.postern.plugins.milter;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;

import org.postern.net.PromptAck;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;

/**
 * One TCP connection to one milter, for one SMTP session: connect, option negotiation, packets out,
 * reply packets in, each wait bounded by a timer ({@code SMFIR_PROGRESS} restarts it). Once
 * anything goes wrong (refused, closed, timed out, malformed) the connection is closed and every
 * later wait fails at once: the caller applies the milter's default action. Used from one event loop.
 */
final class MilterConnection {
  private final Vertx vertx;
  private final MilterSettings.Milter milter;
  private final MilterPacketReader reader = new MilterPacketReader();
  private final Queue<MilterPacket> inbox = new ArrayDeque<>();
  private NetSocket socket;
  private Promise<MilterPacket> waiting;
  private long timer = -1;
  private long waitMillis;
  private Throwable broken;
  private int protocol;
  private int actions;
  /** Macro names the milter asked for per stage (SETSYMLIST in its negotiation), or absent: Postern's set. */
  private final Map<Integer, java.util.Set<String>> symbols = new HashMap<>();

  MilterConnection(Vertx vertx, MilterSettings.Milter milter) {
    this.vertx = vertx;
    this.milter = milter;
  }

  MilterSettings.Milter milter() {
    return milter;
  }

  /** Connects and negotiates, within the milter's connect timeout. */
  Future<Void> open(NetClient client) {
    Promise<Void> done = Promise.promise();
    long deadline = vertx.setTimer(milter.connectTimeout().toMillis(),
        t -> done.tryFail("connect to " + milter.name() + " timed out after " + milter.connectTimeout().toSeconds() + "s"));
    client.connect(milter.port(), milter.host()).onComplete(r -> {
      if (r.failed()) {
        vertx.cancelTimer(deadline);
        done.tryFail("cannot connect to " + milter.name() + ": " + r.cause().getMessage());
        return;
      }
      socket = r.result();
      if (done.future().isComplete()) {
        socket.close();
        return;
      }
      socket.handler(this::received);
      socket.closeHandler(v -> fail(new MilterProtocolException("the milter closed the connection")));
      socket.exceptionHandler(this::fail);
      Buffer offer = Buffer.buffer(12).appendInt(MilterCodes.VERSION).appendInt(MilterCodes.ACTIONS)
          .appendInt(MilterCodes.PROTOCOL);
      vertx.cancelTimer(deadline);
      ask(milter.connectTimeout(), new MilterPacket(MilterCodes.OPTNEG, offer))
          .compose(this::negotiated).onComplete(done);
    });
    return done.future();
  }

  /**
   * The milter's half of the negotiation: its version, the actions it may take and the protocol
   * steps it skips or leaves unanswered, then (version 6) the macro lists it asks for.
   */
  private Future<Void> negotiated(MilterPacket reply) {
    try {
      if (reply.code() != MilterCodes.OPTNEG) {
        throw new MilterProtocolException("negotiation answered with '" + (char) reply.code() + "'");
      }
      int version = reply.intAt(0);
      actions = reply.intAt(4) & MilterCodes.ACTIONS;
      protocol = reply.intAt(8);
      if (version < 2 || version > MilterCodes.VERSION) {
        throw new MilterProtocolException("milter protocol version " + version + " is not supported");
      }
      if ((protocol & ~MilterCodes.PROTOCOL) != 0) {
        throw new MilterProtocolException("the milter asks for protocol features Postern did not offer: 0x"
            + Integer.toHexString(protocol & ~MilterCodes.PROTOCOL));
      }
      int pos = 12;
      while (pos < reply.data().length()) {
        int stage = reply.intAt(pos);
        int end = pos + 4;
        while (end < reply.data().length() && reply.data().getByte(end) != 0) {
          end++;
        }
        if (end >= reply.data().length()) {
          throw new MilterProtocolException("macro list without its NUL terminator");
        }
        String names = reply.data().getString(pos + 4, end, "UTF-8");
        symbols.put(stage, java.util.Set.of(names.strip().isEmpty() ? new String[0] : names.strip().split("\\s+")));
        pos = end + 1;
      }
      return Future.succeededFuture();
    } catch (MilterProtocolException e) {
      fail(e);
      return Future.failedFuture(e);
    }
  }

  /** True when the milter said it does not want this step ({@code SMFIP_NO*}) or its answer ({@code SMFIP_NR_*}). */
  boolean has(int protocolBit) {
    return (protocol & protocolBit) != 0;
  }

  /** True when the milter may take this action (its SMFIF_* bits, masked by Postern's offer). */
  boolean mayAct(int actionBit) {
    return (actions & actionBit) != 0;
  }

  /** The macros the milter asked for at a stage, or null when it asked for none in particular. */
  java.util.Set<String> symbols(int stage) {
    return symbols.get(stage);
  }

  /** Sends packets that need no answer. */
  void send(MilterPacket... packets) {
    if (broken != null || socket == null) {
      return;
    }
    Buffer all = Buffer.buffer();
    for (MilterPacket p : packets) {
      all.appendBuffer(p.encode());
    }
    socket.write(all);
  }

  /** Sends packets, the last of which is answered, and waits for that answer. */
  Future<MilterPacket> ask(Duration timeout, MilterPacket... packets) {
    send(packets);
    return next(timeout);
  }

  /** The next reply packet within {@code timeout}; {@code SMFIR_PROGRESS} restarts the wait. */
  Future<MilterPacket> next(Duration timeout) {
    if (broken != null) {
      return Future.failedFuture(broken);
    }
    MilterPacket first = inbox.poll();
    if (first != null) {
      return Future.succeededFuture(first);
    }
    waiting = Promise.promise();
    waitMillis = timeout.toMillis();
    arm();
    return waiting.future();
  }

  private void arm() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    timer = vertx.setTimer(waitMillis, t -> {
      timer = -1;
      fail(new MilterProtocolException("no answer from " + milter.name() + " within " + waitMillis + "ms"));
    });
  }

  private void received(Buffer bytes) {
    // The milter's next write may be waiting for our ACK of this one (Nagle on its side).
    PromptAck.now(((NetSocketInternal) socket).channelHandlerContext().channel());
    try {
      reader.add(bytes);
    } catch (MilterProtocolException e) {
      fail(e);
      return;
    }
    for (MilterPacket p = reader.next(); p != null; p = reader.next()) {
      if (p.code() == MilterCodes.PROGRESS) {
        if (waiting != null) {
          arm();
        }
        continue;
      }
      if (waiting != null) {
        Promise<MilterPacket> w = waiting;
        waiting = null;
        if (timer >= 0) {
          vertx.cancelTimer(timer);
          timer = -1;
        }
        w.complete(p);
      } else {
        inbox.add(p);
      }
    }
  }

  /** Breaks the connection for good: this and every later wait fails with {@code cause}. */
  void fail(Throwable cause) {
    if (broken != null) {
      return;
    }
    broken = cause;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    if (socket != null) {
      socket.close();
    }
    if (waiting != null) {
      Promise<MilterPacket> w = waiting;
      waiting = null;
      w.fail(cause);
    }
  }

  /** Says QUIT and closes. */
  void quit() {
    send(MilterPacket.of(MilterCodes.QUIT));
    if (broken == null) {
      broken = new MilterProtocolException("closed");
      if (socket != null) {
        socket.end();
      }
    }
  }
}
