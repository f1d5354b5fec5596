package org.postern.plugins.milter;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import org.postern.bus.FilterHook;
import org.postern.bus.FilterRequest;
import org.postern.bus.FilterVerdict;
import org.postern.net.IpAddresses;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The milter side of one SMTP session: a connection to each configured milter, opened at the
 * connect hook (or at the first hook after the plugin was deployed), and the protocol's steps at
 * each hook, milter after milter; the first that does not continue decides. Hooks are handled one
 * after the other, in the order the session sent them.
 *
 * <p>A milter that cannot be reached, times out, closes, or answers what the protocol does not
 * allow is closed for the rest of the session, and its {@code default_action} answers for it from
 * MAIL on (at connect and HELO there is no mail to refuse yet, as in Postfix). A milter that said
 * {@code accept} is not asked again for the message (at connect or HELO: for the session).
 */
final class MilterConversation {
  private static final Logger LOG = LoggerFactory.getLogger(MilterConversation.class);
  /** SMFIR_REPLYCODE's text: a 4xx or 5xx code, an optional enhanced code of the same class, the text. */
  private static final Pattern REPLY_CODE =
      Pattern.compile("([45])(\\d\\d)[ -](?:([45]\\.\\d{1,3}\\.\\d{1,3}) )?(.*)", Pattern.DOTALL);

  /** One milter's state in this session. */
  private static final class Peer {
    final MilterSettings.Milter milter;
    final NetClient client;
    MilterConnection connection;
    String down;
    boolean skipSession;
    boolean skipMessage;
    boolean inTransaction;

    Peer(MilterSettings.Milter milter, NetClient client) {
      this.milter = milter;
      this.client = client;
    }
  }

  /** What the end of message collected over the milters. */
  private static final class Outcome {
    String sender;
    final List<String> add = new ArrayList<>();
    final List<String> delete = new ArrayList<>();
    String quarantine;
  }

  private final Vertx vertx;
  private final List<Peer> peers = new ArrayList<>();
  private Future<FilterVerdict> tail = Future.succeededFuture(FilterVerdict.CONTINUE);

  MilterConversation(Vertx vertx, List<MilterSettings.Milter> milters, List<NetClient> clients) {
    this.vertx = vertx;
    for (int i = 0; i < milters.size(); i++) {
      peers.add(new Peer(milters.get(i), clients.get(i)));
    }
  }

  /** Handles one hook after the previous one is done. */
  Future<FilterVerdict> handle(FilterRequest r) {
    Future<FilterVerdict> result = tail.transform(x -> dispatch(r));
    tail = result.otherwise(FilterVerdict.CONTINUE);
    return result;
  }

  private Future<FilterVerdict> dispatch(FilterRequest r) {
    return switch (r.hook()) {
      case CONNECT -> each(r, p -> connected(p, r));
      case HELO -> each(r, p -> command(p, r, MilterCodes.HELO, MilterCodes.M_HELO, MilterCodes.P_NOHELO,
          MilterCodes.P_NR_HELO, MilterPacket.strings(MilterCodes.HELO, r.argument())));
      case MAIL -> {
        peers.forEach(p -> p.skipMessage = false);
        yield each(r, p -> {
          p.inTransaction = true;
          return command(p, r, MilterCodes.MAIL, MilterCodes.M_ENVFROM, MilterCodes.P_NOMAIL, MilterCodes.P_NR_MAIL,
              MilterPacket.strings(MilterCodes.MAIL, pathAndParameters(r.argument())));
        });
      }
      case RCPT -> each(r, p -> command(p, r, MilterCodes.RCPT, MilterCodes.M_ENVRCPT, MilterCodes.P_NORCPT,
          MilterCodes.P_NR_RCPT, MilterPacket.strings(MilterCodes.RCPT, r.argument())));
      case DATA -> message(r);
      case RESET -> {
        abortTransactions();
        yield Future.succeededFuture(FilterVerdict.CONTINUE);
      }
      case CLOSE -> {
        peers.stream().filter(p -> p.connection != null).forEach(p -> p.connection.quit());
        yield Future.succeededFuture(FilterVerdict.CONTINUE);
      }
    };
  }

  /** Every milter in order, until one does not continue. */
  private Future<FilterVerdict> each(FilterRequest r, Function<Peer, Future<FilterVerdict>> step) {
    Future<FilterVerdict> chain = Future.succeededFuture(FilterVerdict.CONTINUE);
    for (Peer p : peers) {
      chain = chain.compose(v -> v.type() != FilterVerdict.Type.CONTINUE ? Future.succeededFuture(v)
          : ready(p, r).compose(up -> !up ? Future.succeededFuture(downVerdict(p, r.hook()))
              : skipped(p) ? Future.succeededFuture(FilterVerdict.CONTINUE)
              : step.apply(p).recover(e -> Future.succeededFuture(failed(p, r.hook(), e)))));
    }
    return chain;
  }

  private static boolean skipped(Peer p) {
    return p.skipSession || p.skipMessage;
  }

  /**
   * Opens the milter's connection when the session has none yet (and tells it the connection's
   * facts); true when the milter is up.
   */
  private Future<Boolean> ready(Peer p, FilterRequest r) {
    if (p.down != null) {
      return Future.succeededFuture(false);
    }
    if (p.connection != null) {
      return Future.succeededFuture(true);
    }
    p.connection = new MilterConnection(vertx, p.milter);
    Future<FilterVerdict> opened = p.connection.open(p.client).map(FilterVerdict.CONTINUE);
    if (r.hook() != FilterHook.CONNECT) {
      // Deployed while the session was running: the milter still hears of the connection first.
      opened = opened.compose(v -> connected(p, r)).compose(v -> {
        if (v.type() != FilterVerdict.Type.CONTINUE) {
          markDown(p, "refused the connection after it had begun");
        }
        return Future.succeededFuture(v);
      });
    }
    return opened.map(v -> p.down == null).recover(e -> {
      markDown(p, e.getMessage());
      return Future.succeededFuture(false);
    });
  }

  /** SMFIC_CONNECT: the client's name, address family, port and address. */
  private Future<FilterVerdict> connected(Peer p, FilterRequest r) {
    if (p.connection.has(MilterCodes.P_NOCONNECT)) {
      return Future.succeededFuture(FilterVerdict.CONTINUE);
    }
    JsonObject v = r.variables();
    String address = v.getString("sender_host_address", "");
    String name = v.getString("sender_host_name");
    byte[] ip = address.isEmpty() ? null : IpAddresses.parseIp(address);
    Buffer data = Buffer.buffer().appendString(name != null ? name : ip == null ? "localhost" : "[" + address + "]")
        .appendByte((byte) 0);
    if (ip == null) {
      data.appendByte(MilterCodes.FAMILY_UNKNOWN);
    } else {
      data.appendByte(ip.length == 4 ? MilterCodes.FAMILY_INET : MilterCodes.FAMILY_INET6)
          .appendUnsignedShort(v.getInteger("sender_host_port", 0)).appendString(address).appendByte((byte) 0);
    }
    return command(p, r, MilterCodes.CONNECT, MilterCodes.M_CONNECT, 0, MilterCodes.P_NR_CONN,
        new MilterPacket(MilterCodes.CONNECT, data));
  }

  /** One command with its macros; waits for the answer unless the milter said it gives none. */
  private Future<FilterVerdict> command(Peer p, FilterRequest r, byte command, int stage, int skipBit, int noReplyBit,
                                        MilterPacket packet) {
    MilterConnection c = p.connection;
    if (skipBit != 0 && c.has(skipBit)) {
      return Future.succeededFuture(FilterVerdict.CONTINUE);
    }
    MilterPacket macros = MilterMacros.packet(command, stage, r.variables(), c.symbols(stage));
    if (macros != null) {
      c.send(macros);
    }
    if (c.has(noReplyBit)) {
      c.send(packet);
      return Future.succeededFuture(FilterVerdict.CONTINUE);
    }
    return c.ask(p.milter.commandTimeout(), packet).map(reply -> verdict(p, r.hook(), reply));
  }

  /** A reply to anything but the end of message. */
  private FilterVerdict verdict(Peer p, FilterHook hook, MilterPacket reply) {
    try {
      return switch (reply.code()) {
        case MilterCodes.CONTINUE -> FilterVerdict.CONTINUE;
        case MilterCodes.ACCEPT -> {
          if (hook == FilterHook.CONNECT || hook == FilterHook.HELO) {
            p.skipSession = true;
          } else {
            p.skipMessage = true;
          }
          yield FilterVerdict.CONTINUE;
        }
        case MilterCodes.REJECT -> FilterVerdict.of(FilterVerdict.Type.REJECT).withReason(p.milter.name() + ": reject");
        case MilterCodes.TEMPFAIL -> FilterVerdict.of(FilterVerdict.Type.TEMPFAIL).withReason(p.milter.name() + ": tempfail");
        case MilterCodes.DISCARD -> FilterVerdict.of(FilterVerdict.Type.DISCARD).withReason(p.milter.name() + ": discard");
        case MilterCodes.REPLYCODE -> replyCode(reply).withReason(p.milter.name() + ": reply code");
        case MilterCodes.SHUTDOWN, MilterCodes.CONN_FAIL -> {
          markDown(p, "said '" + (char) reply.code() + "' (shut down)");
          yield FilterVerdict.of(FilterVerdict.Type.TEMPFAIL).withReason(p.milter.name() + ": shut down");
        }
        default -> throw new MilterProtocolException("unexpected reply '" + (char) reply.code() + "' to " + hook.wire());
      };
    } catch (MilterProtocolException e) {
      return failed(p, hook, e);
    }
  }

  /** SMFIR_REPLYCODE: {@code "550 5.7.1 text"} (or a multi-line reply); a 4xx tempfails, a 5xx rejects. */
  static FilterVerdict replyCode(MilterPacket reply) throws MilterProtocolException {
    List<String> strings = reply.stringsFrom(0);
    // Sendmail takes the reply as a format string, so libmilter doubles each '%': undo it as Postfix does.
    String text = strings.isEmpty() ? "" : strings.get(0).replaceAll("(?s)%(.?)", "$1");
    Matcher m = REPLY_CODE.matcher(text);
    if (!m.matches() || (m.group(3) != null && m.group(3).charAt(0) != m.group(1).charAt(0))) {
      throw new MilterProtocolException("reply code not a 4xx or 5xx reply: " + text.replaceAll("\\p{Cntrl}", "?"));
    }
    int code = Integer.parseInt(m.group(1) + m.group(2));
    // Later lines of a multi-line reply repeat the code: keep their text only, on one line.
    String body = m.group(4).replaceAll("\r?\n[45]\\d\\d[ -](?:[45]\\.\\d{1,3}\\.\\d{1,3} )?", " ")
        .replaceAll("\\p{Cntrl}", " ").strip();
    return FilterVerdict.reply(code / 100 == 4 ? FilterVerdict.Type.TEMPFAIL : FilterVerdict.Type.REJECT, code,
        m.group(3), body);
  }

  /** The end of DATA: the spooled message through every milter, then written back if one changed it. */
  private Future<FilterVerdict> message(FilterRequest r) {
    if (peers.stream().allMatch(p -> p.down != null || skipped(p))) {
      // Nobody to show the message to: the default actions of those that are down decide.
      Future<FilterVerdict> decided = each(r, p -> Future.succeededFuture(FilterVerdict.CONTINUE));
      abortTransactions();
      return decided;
    }
    Path file = Path.of(r.dataFile());
    Future<MilterMessage> read = vertx.executeBlocking(() -> {
      byte[] bytes = Files.readAllBytes(file);
      Buffer content = Buffer.buffer(bytes.length + r.lateHeaders().length());
      int prefix = Math.min(r.prefixLength(), bytes.length);
      content.appendBytes(bytes, 0, prefix).appendString(r.lateHeaders(), "UTF-8")
          .appendBytes(bytes, prefix, bytes.length - prefix);
      return MilterMessage.parse(content);
    }, false);
    Outcome outcome = new Outcome();
    return read.compose(msg -> each(r, p -> endOfMessage(p, r, msg, outcome))
        .compose(v -> {
          abortTransactions();
          if (v.type() != FilterVerdict.Type.CONTINUE) {
            return Future.succeededFuture(v);
          }
          FilterVerdict.Type type = outcome.quarantine != null ? FilterVerdict.Type.QUARANTINE : FilterVerdict.Type.CONTINUE;
          Future<Boolean> written = msg.changed() ? rewrite(file, msg).map(true) : Future.succeededFuture(false);
          return written.map(edited -> new FilterVerdict(type, null, null, null, outcome.quarantine, edited,
              outcome.sender, outcome.add, outcome.delete));
        }), e -> {
          abortTransactions();
          LOG.warn("milter: cannot read {}: {}", file, e.toString());
          return Future.succeededFuture(FilterVerdict.of(FilterVerdict.Type.TEMPFAIL).withReason("cannot read the spool file"));
        });
  }

  /** The new content, written beside the data file and renamed over it; the session's commit fsyncs it. */
  private Future<Void> rewrite(Path file, MilterMessage msg) {
    Buffer bytes = msg.bytes();
    return vertx.executeBlocking(() -> {
      Path fresh = file.resolveSibling(file.getFileName() + ".milter");
      try {
        Files.write(fresh, bytes.getBytes());
        Files.move(fresh, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(fresh);
      }
      return null;
    }, false);
  }

  /** DATA, the headers, end of headers, the body in chunks, end of body and the milter's changes. */
  private Future<FilterVerdict> endOfMessage(Peer p, FilterRequest r, MilterMessage msg, Outcome outcome) {
    MilterConnection c = p.connection;
    boolean leadingSpace = c.has(MilterCodes.P_HDR_LEADSPC);
    Duration content = p.milter.contentTimeout();
    Future<FilterVerdict> chain = command(p, r, MilterCodes.DATA, MilterCodes.M_DATA, MilterCodes.P_NODATA,
        MilterCodes.P_NR_DATA, MilterPacket.of(MilterCodes.DATA));
    if (!c.has(MilterCodes.P_NOHDRS)) {
      for (MilterMessage.Header h : msg.visibleHeaders()) {
        MilterPacket packet = MilterPacket.strings(MilterCodes.HEADER, h.name(), MilterMessage.forMilter(h, leadingSpace));
        chain = then(p, chain, () -> step(p, r, c, packet, MilterCodes.P_NR_HDR, content));
      }
    }
    if (!c.has(MilterCodes.P_NOEOH)) {
      chain = then(p, chain, () -> step(p, r, c, MilterPacket.of(MilterCodes.EOH), MilterCodes.P_NR_EOH, content));
    }
    if (!c.has(MilterCodes.P_NOBODY)) {
      chain = then(p, chain, () -> body(p, r, c, msg.body(), 0, content));
    }
    return then(p, chain, () -> {
      MilterPacket macros = MilterMacros.packet(MilterCodes.BODYEOB, MilterCodes.M_EOM, r.variables(),
          c.symbols(MilterCodes.M_EOM));
      if (macros != null) {
        c.send(macros);
      }
      c.send(MilterPacket.of(MilterCodes.BODYEOB));
      return changes(p, c, msg, outcome, content);
    });
  }

  /** The next step of one milter's message, unless it refused it or accepted it (then it hears no more of it). */
  private static Future<FilterVerdict> then(Peer p, Future<FilterVerdict> chain,
                                            java.util.function.Supplier<Future<FilterVerdict>> next) {
    return chain.compose(v -> v.type() != FilterVerdict.Type.CONTINUE || p.skipMessage ? Future.succeededFuture(v)
        : next.get());
  }

  private Future<FilterVerdict> step(Peer p, FilterRequest r, MilterConnection c, MilterPacket packet, int noReplyBit,
                                     Duration timeout) {
    if (c.has(noReplyBit)) {
      c.send(packet);
      return Future.succeededFuture(FilterVerdict.CONTINUE);
    }
    return c.ask(timeout, packet).map(reply -> verdict(p, r.hook(), reply));
  }

  /** Body chunks from {@code offset}; SMFIR_SKIP ends them early. */
  private Future<FilterVerdict> body(Peer p, FilterRequest r, MilterConnection c, Buffer body, int offset,
                                     Duration timeout) {
    if (offset >= body.length()) {
      return Future.succeededFuture(FilterVerdict.CONTINUE);
    }
    int end = Math.min(body.length(), offset + MilterCodes.CHUNK);
    MilterPacket chunk = new MilterPacket(MilterCodes.BODY, body.getBuffer(offset, end));
    if (c.has(MilterCodes.P_NR_BODY)) {
      c.send(chunk);
      return body(p, r, c, body, end, timeout);
    }
    return c.ask(timeout, chunk).compose(reply -> reply.code() == MilterCodes.SKIP
        ? Future.succeededFuture(FilterVerdict.CONTINUE)
        : then(p, Future.succeededFuture(verdict(p, r.hook(), reply)), () -> body(p, r, c, body, end, timeout)));
  }

  /** After end of body: the milter's changes, then its verdict. */
  private Future<FilterVerdict> changes(Peer p, MilterConnection c, MilterMessage msg, Outcome outcome, Duration timeout) {
    return c.next(timeout).compose(reply -> {
      try {
        switch (reply.code()) {
          case MilterCodes.ADDHEADER -> {
            allowed(c, MilterCodes.F_ADDHDRS, reply);
            List<String> s = pair(reply, 0);
            msg.add(s.get(0), MilterMessage.headerValue(s.get(1), c.has(MilterCodes.P_HDR_LEADSPC)));
          }
          case MilterCodes.INSHEADER -> {
            allowed(c, MilterCodes.F_ADDHDRS, reply);
            List<String> s = pair(reply, 4);
            msg.insert(reply.intAt(0), s.get(0), MilterMessage.headerValue(s.get(1), c.has(MilterCodes.P_HDR_LEADSPC)));
          }
          case MilterCodes.CHGHEADER -> {
            allowed(c, MilterCodes.F_CHGHDRS, reply);
            List<String> s = pair(reply, 4);
            msg.change(reply.intAt(0), s.get(0), s.get(1).isEmpty() ? ""
                : MilterMessage.headerValue(s.get(1), c.has(MilterCodes.P_HDR_LEADSPC)));
          }
          case MilterCodes.REPLBODY -> {
            allowed(c, MilterCodes.F_CHGBODY, reply);
            msg.replaceBodyChunk(reply.data());
          }
          case MilterCodes.QUARANTINE -> {
            allowed(c, MilterCodes.F_QUARANTINE, reply);
            List<String> s = reply.stringsFrom(0);
            outcome.quarantine = p.milter.name() + ": " + (s.isEmpty() ? "" : s.get(0).replaceAll("\\p{Cntrl}", " "));
          }
          case MilterCodes.CHGFROM -> {
            allowed(c, MilterCodes.F_CHGFROM, reply);
            outcome.sender = unbracket(first(reply));
          }
          case MilterCodes.ADDRCPT, MilterCodes.ADDRCPT_PAR -> {
            allowed(c, reply.code() == MilterCodes.ADDRCPT ? MilterCodes.F_ADDRCPT : MilterCodes.F_ADDRCPT_PAR, reply);
            outcome.add.add(unbracket(first(reply)));
          }
          case MilterCodes.DELRCPT -> {
            allowed(c, MilterCodes.F_DELRCPT, reply);
            outcome.delete.add(unbracket(first(reply)));
          }
          default -> {
            p.inTransaction = false;
            msg.endOfMessage();
            return Future.succeededFuture(verdict(p, FilterHook.DATA, reply));
          }
        }
      } catch (MilterProtocolException e) {
        return Future.failedFuture(e);
      }
      return changes(p, c, msg, outcome, timeout);
    });
  }

  private static void allowed(MilterConnection c, int action, MilterPacket reply) throws MilterProtocolException {
    if (!c.mayAct(action)) {
      throw new MilterProtocolException("action '" + (char) reply.code() + "' was not negotiated");
    }
  }

  private static List<String> pair(MilterPacket reply, int offset) throws MilterProtocolException {
    List<String> s = reply.stringsFrom(offset);
    if (s.size() < 2 || s.get(0).isEmpty() || !s.get(0).matches("[\\x21-\\x39\\x3b-\\x7e]+")) {
      throw new MilterProtocolException("header action '" + (char) reply.code() + "' without a valid name and value");
    }
    return s;
  }

  private static String first(MilterPacket reply) throws MilterProtocolException {
    List<String> s = reply.stringsFrom(0);
    if (s.isEmpty()) {
      throw new MilterProtocolException("envelope action '" + (char) reply.code() + "' without an address");
    }
    return s.get(0);
  }

  private static String unbracket(String path) {
    String p = path.strip();
    return p.startsWith("<") && p.endsWith(">") ? p.substring(1, p.length() - 1) : p;
  }

  /** {@code <sender> SIZE=1 BODY=8BITMIME} as the strings of SMFIC_MAIL: the path, then each parameter. */
  private static String[] pathAndParameters(String argument) {
    int close = argument.lastIndexOf('>');
    String path = close < 0 ? argument : argument.substring(0, close + 1);
    String rest = close < 0 ? "" : argument.substring(close + 1).strip();
    List<String> parts = new ArrayList<>();
    parts.add(path);
    if (!rest.isEmpty()) {
      parts.addAll(List.of(rest.split(" +")));
    }
    return parts.toArray(new String[0]);
  }

  private void abortTransactions() {
    for (Peer p : peers) {
      if (p.inTransaction && p.connection != null && p.down == null) {
        p.connection.send(MilterPacket.of(MilterCodes.ABORT));
      }
      p.inTransaction = false;
      p.skipMessage = false;
    }
  }

  private FilterVerdict failed(Peer p, FilterHook hook, Throwable e) {
    markDown(p, e.getMessage());
    return downVerdict(p, hook);
  }

  private void markDown(Peer p, String why) {
    if (p.down == null) {
      p.down = why;
      LOG.warn("milter {}: {}; default action {} for the rest of the session", p.milter.name(), why,
          p.milter.defaultAction().name().toLowerCase(java.util.Locale.ROOT));
      if (p.connection != null) {
        p.connection.fail(new MilterProtocolException(why));
      }
    }
  }

  /** A milter that is down answers with its default action, from MAIL on. */
  private static FilterVerdict downVerdict(Peer p, FilterHook hook) {
    if (hook == FilterHook.CONNECT || hook == FilterHook.HELO) {
      return FilterVerdict.CONTINUE;
    }
    return switch (p.milter.defaultAction()) {
      case ACCEPT -> FilterVerdict.CONTINUE;
      case TEMPFAIL -> FilterVerdict.of(FilterVerdict.Type.TEMPFAIL).withReason(p.milter.name() + ": " + p.down);
      case REJECT -> FilterVerdict.of(FilterVerdict.Type.REJECT).withReason(p.milter.name() + ": " + p.down);
    };
  }
}
