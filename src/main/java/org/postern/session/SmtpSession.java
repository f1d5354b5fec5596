package org.postern.session;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.postern.bus.AclVerdict;
import org.postern.bus.AclStage;
import org.postern.bus.ProxySession;
import org.postern.bus.FilterHook;
import org.postern.bus.FilterRequest;
import org.postern.bus.FilterVerdict;
import org.postern.bus.SessionOpen;
import org.postern.bus.SessionSummary;
import org.postern.config.AuthenticatorConfig;
import org.postern.config.PosternConfig;
import org.postern.smtp.CommandLineLimits;
import org.postern.smtp.MailPath;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;

import java.util.function.Supplier;

/**
 * The state of one SMTP session: connection facts, HELO/EHLO state and the current
 * {@link Transaction}. Commands read and change it; it never touches a socket or a file.
 */
public final class SmtpSession {
  private final String id;
  private final PosternConfig config;
  private final AclClient acl;
  private final FilterClient filters;
  private final SessionOpen facts;
  private final boolean local;
  private final boolean batch;
  private final long startedAt = System.currentTimeMillis();
  private String heloName;
  private boolean esmtp;
  private boolean inData;
  private Transaction transaction = new Transaction();
  private int unknownCommands;
  private int protocolErrors;
  private int messages;
  /** Counts transactions so per-message state elsewhere (ratelimit per_mail) can tell them apart. */
  private int transactions;
  private JsonObject tls;
  private boolean tlsFailed;
  private String authenticatedId;
  private String authenticator;
  private AuthenticatorConfig authExchange;
  private int authFailures;
  /** A session filter said {@code discard} at connect or HELO: every message of the connection is dropped. */
  private boolean filterDiscardsAll;
  /** {@code control = no_pipelining} from the connect or helo ACL. */
  private boolean noPipelining;
  /** Message controls given before any transaction (connect, helo ACLs): they apply to every message. */
  private final java.util.List<String> connectionControls = new java.util.ArrayList<>();
  /** {@code acl_c*} live for the connection, {@code acl_m*} for one transaction (Exim). */
  private final java.util.Map<String, String> aclVariables = new java.util.HashMap<>();

  SmtpSession(PosternConfig config, AclClient acl, FilterClient filters, SessionOpen facts) {
    this.id = facts.id();
    this.config = config;
    this.acl = acl;
    this.filters = filters;
    this.facts = facts;
    this.local = facts.local();
    this.batch = facts.batch();
    this.tls = facts.tls();
  }

  public String id() {
    return id;
  }

  public PosternConfig config() {
    return config;
  }

  /** The client's IP address, "" for local submission. */
  public String hostAddress() {
    return facts.remoteAddress();
  }

  public int hostPort() {
    return facts.remotePort();
  }

  public String interfaceAddress() {
    return facts.localAddress();
  }

  public int interfacePort() {
    return facts.localPort();
  }

  /** True under {@code -bh}: decisions are traced and nothing is done (no queue run for ETRN). */
  public boolean isHostCheck() {
    return facts.hostCheck();
  }

  /** True for {@code -bs}/{@code -bS}: no TCP peer. */
  public boolean isLocal() {
    return local;
  }

  /** True for batched SMTP ({@code -bS}): no HELO needed, no synchronization checks. */
  public boolean isBatch() {
    return batch;
  }

  public String heloName() {
    return heloName;
  }

  public boolean esmtp() {
    return esmtp;
  }

  void greeted(String name, boolean extended) {
    this.heloName = name;
    this.esmtp = extended;
    resetTransaction();
  }

  /** EHLO advertised PIPELINING; before that every command must wait for its reply. */
  boolean greetedWithPipelining() {
    return esmtp && !noPipelining;
  }

  public boolean greeted() {
    return heloName != null || batch;
  }

  Transaction transaction() {
    return transaction;
  }

  /** Ends the transaction; session filters that saw its MAIL are told ({@code reset}). */
  void resetTransaction() {
    if (transaction.hasSender()) {
      filtersReset();
    }
    endTransaction();
  }

  /** Tells the session filters that the transaction they saw ended without a message for them. */
  void filtersReset() {
    filters.tell(FilterRequest.of(id, FilterHook.RESET, new JsonObject(), null));
  }

  /** Ends the transaction without telling the filters: the end of DATA, whose own hook ends it for them. */
  void endTransaction() {
    transaction = new Transaction();
    if (filterDiscardsAll) {
      transaction.discardedByFilter();
    }
    transactions++;
    connectionControls.forEach(c -> applyControl(c, transaction));
    inData = false;
    aclVariables.keySet().removeIf(name -> name.startsWith("acl_m"));
  }

  boolean inData() {
    return inData;
  }

  void inData(boolean on) {
    inData = on;
  }

  int messageAccepted() {
    return ++messages;
  }

  /** Counts an unrecognized command; true when the limit ({@code smtp_max_unknown_commands}) is passed. */
  boolean tooManyUnknown() {
    return ++unknownCommands > config.smtpMaxUnknownCommands();
  }

  /** Counts a syntax or protocol error; true when the limit ({@code smtp_max_synprot_errors}) is passed. */
  boolean tooManyProtocolErrors() {
    return ++protocolErrors > config.smtpMaxSynprotErrors();
  }

  /** What the admin API's {@code GET /sessions} shows of this session. */
  SessionSummary summary() {
    String state = inData ? "data" : transaction.hasSender() ? "mail" : heloName != null ? "greeted" : "connected";
    String client = local ? "" : "[" + hostAddress() + "]:" + hostPort();
    return new SessionSummary(id, client, facts.listener(), state, tls == null ? null : tls.getString("tls_cipher"),
        authenticatedId, startedAt);
  }

  /**
   * Exim's {@code $received_protocol}, with RFC 3848 names for network sessions; Exim's
   * {@code utf8} prefix once MAIL had SMTPUTF8 ({@code utf8esmtps}).
   */
  public String protocol() {
    return protocol(transaction);
  }

  /** {@link #protocol()} for a transaction the session has already let go of (at the end of DATA). */
  String protocol(Transaction t) {
    String base = (t.smtpUtf8() ? "utf8" : "") + (esmtp ? "esmtp" : "smtp") + (tls != null ? "s" : "")
        + (authenticatedId != null ? "a" : "");
    return local ? "local-" + base : base;
  }

  /** Exim's {@code smtputf8_advertise_hosts}. */
  boolean offersSmtpUtf8() {
    return config.extensions().smtpUtf8Hosts().matches(hostAddress(), null);
  }

  /** RFC 8689 4: REQUIRETLS only inside TLS, to {@code requiretls_advertise_hosts}. */
  boolean offersRequireTls() {
    return tls != null && config.extensions().requireTlsHosts().matches(hostAddress(), null);
  }

  /** TLS facts ({@code tls_cipher}, {@code tls_peerdn}, ...) once the session is encrypted, else null. */
  public JsonObject tls() {
    return tls;
  }

  /** True once AUTH succeeded; STARTTLS is refused then. */
  boolean authenticated() {
    return authenticatedId != null;
  }

  /** {@code $authenticated_id}, or null before a successful AUTH. */
  public String authenticatedId() {
    return authenticatedId;
  }

  void authenticated(String authenticatorName, String id) {
    this.authenticator = authenticatorName;
    this.authenticatedId = id;
  }

  /** The authenticator whose exchange is in progress (lines are SASL responses), or null. */
  AuthenticatorConfig authExchange() {
    return authExchange;
  }

  void authExchange(AuthenticatorConfig a) {
    this.authExchange = a;
  }

  /** Counts a failed AUTH; returns the count in this session. */
  int authFailed() {
    return ++authFailures;
  }

  /** Failed AUTHs counted in this session so far. */
  int authFailures() {
    return authFailures;
  }

  /**
   * AUTH is offered after TLS, or in clear to {@code auth_advertise_hosts} when the admin set it,
   * else only to {@code relay_from_hosts}: passwords do not cross the network in clear by default.
   */
  boolean offersAuth() {
    if (authenticatedId != null || local || config.auth().authenticators().isEmpty()) {
      return false;
    }
    var hosts = config.auth().advertiseHosts();
    if (hosts != null) {
      return hosts.matches(hostAddress(), null);
    }
    return tls != null || config.relayFromHosts().matches(hostAddress(), null);
  }

  /** {@code server_advertise_condition}: an authenticator can hide itself per session. */
  boolean offersMechanism(AuthenticatorConfig a) {
    if (a.advertiseCondition() == null) {
      return true;
    }
    JsonObject vars = variables();
    try {
      return a.advertiseCondition().condition(name -> {
        Object v = vars.getValue(name);
        return v == null ? null : String.valueOf(v);
      });
    } catch (org.postern.expand.ExpansionException e) {
      return false;
    }
  }

  /** True when STARTTLS may be offered: a TLS-capable connection, not yet encrypted, a host it is advertised to. */
  boolean offersStartTls() {
    return tls == null && !local && facts.startTlsAvailable()
        && config.tls().advertiseHosts().matches(hostAddress(), null);
  }

  /** {@code chunking_advertise_hosts}: EHLO lists CHUNKING, and BDAT is accepted, for these hosts. */
  boolean offersChunking() {
    return config.chunkingAdvertiseHosts().matches(hostAddress(), null);
  }

  /** CHUNKING was in the reply to the last EHLO: only then is BDAT a command here (Exim). */
  boolean chunkingAdvertised() {
    return esmtp && offersChunking();
  }

  /** RFC 3207 4.2: after the handshake the client starts again from the greeting. */
  void tlsStarted(JsonObject facts) {
    this.tls = facts;
    this.heloName = null;
    this.esmtp = false;
    resetTransaction();
  }

  void tlsFailed() {
    this.tlsFailed = true;
  }

  /** After a failed handshake nothing but QUIT is accepted (Exim). */
  boolean isTlsFailed() {
    return tlsFailed;
  }

  /** {@code [ip]:port} as Exim prints the host in logs and headers. */
  public String hostForLog() {
    if (local) {
      return "U=local";
    }
    return "H=" + (heloName == null ? "" : "(" + heloName + ") ") + "[" + hostAddress() + "]:" + hostPort();
  }

  /** Exim's TLS and AUTH fields on log lines: {@code X=cipher CV=yes DN="..." A=name:id}. */
  String tlsForLog() {
    String auth = authenticatedId == null ? "" : " A=" + authenticator + ":" + authenticatedId.replaceAll("\\s", "_");
    if (tls == null) {
      return auth;
    }
    String dn = tls.getString("tls_peerdn");
    return " X=" + tls.getString("tls_cipher") + " CV=" + (tls.getInteger("tls_certificate_verified", 0) == 1 ? "yes" : "no")
        + (dn == null ? "" : " DN=\"" + dn.replace("\"", "\\\"") + "\"") + auth;
  }

  /** The variables an ACL can test, as of now. */
  public JsonObject variables() {
    JsonObject v = new JsonObject()
        .put("connection_id", id)
        .put("transaction_number", transactions)
        .put("sender_host_address", hostAddress())
        .put("sender_host_port", hostPort())
        .put("sender_host_name", facts.remoteName())
        .put("interface_address", interfaceAddress())
        .put("interface_port", interfacePort())
        .put("received_port", interfacePort())
        .put("received_listener", facts.listener())
        .put("received_protocol", protocol())
        .put("primary_hostname", config.primaryHostname());
    proxyVariables(v);
    if (heloName != null) {
      v.put("sender_helo_name", heloName);
    }
    if (tls != null) {
      v.mergeIn(tls);
    }
    if (authenticatedId != null) {
      v.put("authenticated_id", authenticatedId);
    }
    aclVariables.forEach(v::put);
    if (transaction.hasSender()) {
      v.put("sender_address", transaction.sender().address());
      if (transaction.authenticatedSender() != null) {
        v.put("authenticated_sender", transaction.authenticatedSender());
      }
      v.put("recipients_count", transaction.recipients().size());
      v.put("message_smtputf8", transaction.smtpUtf8());
      transaction.dsn().addVariables(v);
    }
    return v;
  }

  /**
   * Exim's {@code $proxy_*}: set for a connection that came through a {@code hosts_proxy} load
   * balancer ({@code $sender_host_address} is then the client from its PROXY header); empty otherwise.
   */
  private void proxyVariables(JsonObject v) {
    ProxySession proxy = facts.proxy();
    v.put("proxy_session", proxy != null ? "yes" : "no")
        .put("proxy_local_address", proxy == null ? "" : proxy.localAddress())
        .put("proxy_local_port", proxy == null ? 0 : proxy.localPort())
        .put("proxy_external_address", proxy == null ? "" : proxy.externalAddress())
        .put("proxy_external_port", proxy == null ? 0 : proxy.externalPort());
  }

  /**
   * {@link #variables()} plus the message's recipients ({@code $recipients} and the list the
   * {@code recipients} condition reads), for the predata, mime and data ACLs only: built per RCPT
   * it would cost O(n) for each of up to {@code recipients_max} commands.
   */
  public JsonObject variablesWithRecipients() {
    JsonObject v = variables();
    JsonArray list = new JsonArray();
    transaction.recipients().forEach(r -> list.add(r.address()));
    return v.put("recipients_list", list).put("recipients", String.join(", ",
        transaction.recipients().stream().map(MailPath::address).toList()));
  }

  /** True when a session filter is deployed: only then do the hooks build their requests. */
  boolean filtering() {
    return filters.active();
  }

  /** Asks the session filters at {@code hook} (after the stage's ACL accepted). */
  Future<FilterVerdict> filter(FilterRequest request) {
    return filters.ask(request);
  }

  /** Tells the session filters the connection is gone. */
  void filtersClosed() {
    filters.tell(FilterRequest.of(id, FilterHook.CLOSE, new JsonObject(), null));
  }

  /** A filter said {@code discard} before any transaction: every message of the connection is dropped. */
  void filterDiscardsAll() {
    filterDiscardsAll = true;
    transaction.discardedByFilter();
  }

  /**
   * The reply for a filter's refusal: its own code when it is of the verdict's class (4xx for
   * tempfail, 5xx for reject), else Postfix's defaults for a milter's reject and tempfail.
   */
  static SmtpReply filterRefusal(FilterVerdict verdict) {
    boolean temporary = verdict.type() == FilterVerdict.Type.TEMPFAIL;
    SmtpReply base = temporary ? FILTER_TEMPFAIL : FILTER_REJECT;
    if (verdict.code() != null && verdict.code() / 100 == base.code() / 100) {
      String enhanced = verdict.enhanced() != null && verdict.enhanced().charAt(0) == base.enhanced().charAt(0)
          ? verdict.enhanced() : base.enhanced();
      return SmtpReply.of(verdict.code(), enhanced, verdict.text() == null || verdict.text().isBlank()
          ? base.text() : verdict.text());
    }
    return base;
  }

  private static final SmtpReply FILTER_REJECT = SmtpReply.of(550, "5.7.1", "Command rejected");
  private static final SmtpReply FILTER_TEMPFAIL = SmtpReply.of(451, "4.7.1", "Service unavailable - try again later");

  /**
   * Asks the stage's ACL, mapping a missing answer to a deferral. The variables are built only
   * when the configuration the session started with has an ACL for {@code stage}: Exim's default
   * verdict reads none, and building them (a JSON object of ~20 entries, with the recipients and
   * the header text at DATA) for nothing cost a measurable share of each command.
   */
  Future<AclVerdict> check(AclStage stage, Supplier<JsonObject> variables) {
    JsonObject vars = config.aclForStage(stage) != null ? variables.get() : null;
    return acl.check(config, stage, vars, facts.hostCheck()).map(verdict -> {
      if (verdict.set() != null) {
        verdict.set().forEach(e -> aclVariables.put(e.getKey(), String.valueOf(e.getValue())));
      }
      if (verdict.accepted()) {
        applyEffects(stage, verdict.effects());
      }
      return verdict;
    });
  }

  /**
   * Exim: headers may be added from the MAIL stage on (earlier ones have no message to go to);
   * message controls given before MAIL apply to every message of the connection.
   */
  private void applyEffects(AclStage stage, org.postern.bus.AclEffects effects) {
    boolean messageStage = stage.inTransaction();
    if (messageStage) {
      transaction.addedHeaders().addAll(effects.headers());
    }
    for (String control : effects.controls()) {
      if (org.postern.policy.AclControl.parse(control) == org.postern.policy.AclControl.NO_PIPELINING) {
        noPipelining = true;
      } else if (messageStage) {
        applyControl(control, transaction);
      } else {
        connectionControls.add(control);
        applyControl(control, transaction);
      }
    }
  }

  private static void applyControl(String control, Transaction t) {
    org.postern.policy.AclControl c = org.postern.policy.AclControl.parse(control);
    t.controls().add(c);
    if (c == org.postern.policy.AclControl.SUBMISSION) {
      t.submissionDomain(org.postern.policy.AclControl.option(control, "domain"));
    }
  }

  /**
   * The longest line {@code verb} may have in this session: RFC 5321's 512 octets, raised by the
   * extensions EHLO offered to this client (see {@link CommandLineLimits}). AUTH counts as offered
   * after a successful AUTH too, when EHLO no longer lists it but MAIL may still carry {@code AUTH=}.
   */
  int commandLineLimit(String verb) {
    boolean auth = esmtp && (authenticatedId != null || offersAuth());
    return CommandLineLimits.forVerb(verb, config.commandLineMax(), offersDsn(), auth, esmtp && offersSmtpUtf8());
  }

  /** {@code dsn_advertise_hosts}: EHLO offers DSN (RFC 3461), and only then are its parameters accepted. */
  boolean offersDsn() {
    return esmtp() && config.dsnAdvertiseHosts().matches(hostAddress(), null);
  }

  /** False after {@code control = no_pipelining}: EHLO does not offer PIPELINING. */
  boolean pipeliningOffered() {
    return !noPipelining;
  }

  /**
   * The reply for a verdict that did not accept, with Exim's default codes per stage; a failed
   * {@code verify} or an ACL {@code message} overrides them.
   */
  static SmtpReply refusal(AclStage stage, AclVerdict verdict) {
    SmtpReply base = switch (verdict.type()) {
      case DEFER -> switch (stage) {
        case MAIL, RCPT, VRFY, EXPN, HELO -> SmtpReply.of(450, "4.7.1", "Temporary local problem - please try later");
        case ETRN -> SmtpReply.of(458, "4.7.1", "Unable to queue messages");
        default -> Replies.POLICY_DEFERRED;
      };
      default -> switch (stage) {
        case CONNECT, PREDATA -> SmtpReply.of(554, "5.7.1", "Administrative prohibition");
        case ETRN -> SmtpReply.of(458, "4.7.1", "Administrative prohibition");
        default -> Replies.ADMINISTRATIVE_PROHIBITION;
      };
    };
    if (verdict.code() != null && (verdict.code() / 100) == (base.code() / 100)) {
      base = SmtpReply.of(verdict.code(), verdict.enhanced() != null ? verdict.enhanced() : base.enhanced(), base.text());
    }
    return verdict.message() != null ? base.withText(verdict.message()) : base;
  }

  /** Adds the recipient's {@code local_part} and {@code domain} to a variable set. */
  static JsonObject withAddress(JsonObject vars, MailPath path) {
    return vars.put("local_part", path.dequotedLocalPart()).put("domain", path.domain())
        .put("recipient", path.address());
  }
}
