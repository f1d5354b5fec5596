package org.postern.bus;

/**
 * Event-bus addresses of Postern's verticles. A plugin is a verticle that consumes one of these
 * (or a new {@code postern.acl.condition.*}, {@code postern.auth.*} or {@code postern.deliver.*}
 * address that the configuration refers to). The session, ACL, AUTH, enqueue and delivery records
 * of this package travel node-locally by reference ({@link BusCodecs}); everything a plugin may
 * serve or a cluster carries is JSON, with its schema in {@code docs/plugins.md}.
 *
 * <p>The session and ACL verticles run one instance per event loop. Each instance also consumes
 * its own copy of its addresses, {@link #ofInstance(String, int) address.n}, listed in an
 * {@link InstanceDirectory}: a connection talks to the session instance on its own event loop for
 * its whole life, and a session to the ACL instance on its loop.
 */
public final class Addresses {
  /** Directory of the session instances ({@link InstanceDirectory}); each serves the six below as {@code .n}. */
  public static final String SESSION = "postern.session";
  /** A new connection: {@link SessionOpen} in, {@link SessionResponse} (greeting after the connect ACL) out. */
  public static final String SESSION_OPEN = "postern.session.open";
  /** One command line: {@link SessionCommand} in, {@link SessionResponse} (reply and action) out. */
  public static final String SESSION_COMMAND = "postern.session.command";
  /** End of DATA: {@link SessionData} in, {@link SessionResponse} (commit, abort or discard) out. */
  public static final String SESSION_DATA = "postern.session.data";
  /** STARTTLS finished: {@link SessionTls} in, {@link Ack} out; the session resets to the greeting. */
  public static final String SESSION_TLS = "postern.session.tls";
  /** The connection is gone: {@link SessionClose} (with its reason), sent, never answered. */
  public static final String SESSION_CLOSE = "postern.session.close";
  /** The instance's live sessions (admin API): {@link Ack} in, {@link SessionList} out. */
  public static final String SESSION_LIST = "postern.session.list";
  /**
   * ACL evaluation: {@link AclCheck} in, {@link AclVerdict} out; on this plain address in JSON,
   * on an instance's {@code postern.acl.check.n} by reference.
   */
  public static final String ACL_CHECK = "postern.acl.check";
  /** Prefix of plugin ACL conditions: {@code postern.acl.condition.<name>}. */
  public static final String ACL_CONDITION_PREFIX = "postern.acl.condition.";
  /**
   * Prefix of SASL mechanisms, {@code postern.auth.<MECHANISM>} ({@code postern.auth.PLAIN}, ...):
   * {@link AuthStep} in, {@link AuthReply} out.
   */
  public static final String AUTH_PREFIX = "postern.auth.";
  /**
   * Default prefix of plugin authenticators' addresses, {@code postern.auth.plugin.<name>}: the
   * authenticators forward each SASL step of a {@code driver: plugin} mechanism there.
   */
  public static final String AUTH_PLUGIN_PREFIX = "postern.auth.plugin.";
  /** Published (node-local) when an exchange ends before its authenticator finished it: {@link AuthCancel}. */
  public static final String AUTH_CANCEL = "postern.auth.cancel";
  /** A committed message: {@link EnqueueRequest} in, {@link EnqueueReply} once its first delivery attempt is over. */
  public static final String QUEUE_ENQUEUE = "postern.queue.enqueue";
  /**
   * An accepted message still in memory, offered for maildir delivery before the 250
   * ({@code local_delivery_before_ack}): {@link LocalDeliveryRequest} in, {@link LocalDeliveryReply} out.
   */
  public static final String QUEUE_DELIVER_LOCAL = "postern.queue.deliver.local";
  /** Queue run request (cluster-wide, JSON): {@link QueueFlushRequest} in, {@link QueueFlushReply} out. */
  public static final String QUEUE_FLUSH = "postern.queue.flush";
  /**
   * Prefix of delivery transports, {@code postern.deliver.<transport>}: {@link DeliveryRequest} in,
   * {@link DeliveryResult} out.
   */
  public static final String DELIVER_PREFIX = "postern.deliver.";
  /**
   * Prefix of session filters, {@code postern.filter.<name>}: {@link FilterRequest} in,
   * {@link FilterVerdict} out, both JSON; a filter lists itself in {@link SessionFilters}.
   */
  public static final String FILTER_PREFIX = "postern.filter.";
  /**
   * Published (node-local) when a remote delivery waits for a {@code remote_max_parallel} permit:
   * {@link DeliveryWaiting}, as JSON.
   */
  public static final String DELIVERY_WAITING = "postern.event.delivery.waiting";
  /** Published (node-local) when a limit refused a connection: {@link ConnectionRefused}, as JSON. */
  public static final String CONNECTION_REFUSED = "postern.event.connection.refused";
  /** Published (node-local) after each scan of the TLS certificate files: {@link TlsScan}, as JSON. */
  public static final String TLS_SCANNED = "postern.event.tls.scanned";
  /** Published (cluster-wide) after a configuration generation was accepted: {@code {generation}}. */
  public static final String CONFIG_CHANGED = "postern.config.changed";
  /**
   * Published (cluster-wide) when a changed configuration was refused and the previous generation
   * stays in force: {@code {error}}, the refusal with file, line and option as the log has it.
   */
  public static final String CONFIG_REFUSED = "postern.config.refused";
  /**
   * Prefix of the published message events, {@code postern.event.<kind>} ({@code accepted},
   * {@code delivered}, {@code deferred}, {@code failed}, {@code bounced}, {@code completed}):
   * {@link MessageEvent} as JSON, cluster-wide when clustered. The configuration's events are
   * {@link #CONFIG_CHANGED} (applied) and {@link #CONFIG_REFUSED}.
   */
  public static final String EVENT_PREFIX = "postern.event.";
  /**
   * Published when the plugin verticles changed ({@code verticles.json} or a jar in
   * {@code plugin_directory}): {@code {deployed, undeployed, failed}}, arrays of plugin names.
   */
  public static final String PLUGINS_CHANGED = "postern.plugins.changed";
  /**
   * Published (node-local) after each check of the plugin addresses the configuration names (after
   * the start, each configuration change and each plugin change): {@link PluginPresenceCheck}.
   */
  public static final String PLUGINS_CHECKED = "postern.plugins.checked";
  /**
   * Ask this node to re-read its configuration now (node-local: SIGHUP); clustered, a change it
   * finds becomes the cluster's generation.
   */
  public static final String CONFIG_RELOAD = "postern.config.reload";
  /**
   * Node-local: put a {@link ConfigGeneration} received from the cluster in force here, after
   * validating it and writing its files into conf/; answered {@code {generation}} or failed (400)
   * with the refusal.
   */
  public static final String CONFIG_ADOPT = "postern.config.adopt";
  /**
   * Node-local, served only when clustered: a {@link ConfigGeneration} changed on this node,
   * proposed as the cluster's next one; answered by the cluster's current generation afterwards,
   * which is the proposal when it won.
   */
  public static final String CLUSTER_CONFIG_PROPOSE = "postern.cluster.config.propose";
  /** Published cluster-wide: the {@link ConfigGeneration} that just became the cluster's current one. */
  public static final String CLUSTER_GENERATION = "postern.cluster.generation";
  /**
   * Node-local, served only when clustered: a {@link QueueFlushRequest} run by every node of the
   * cluster on its own spool (ETRN); answered by a {@link QueueFlushReply} with the sum of what they started.
   */
  public static final String CLUSTER_QUEUE_FLUSH = "postern.cluster.queue.flush";
  /**
   * Prefix of each cluster node's own queue address, {@code postern.cluster.queue.<node id>}:
   * a {@link QueueFlushRequest} for that node's queue, or {@code {list: kind}} for its listing.
   */
  public static final String CLUSTER_QUEUE_PREFIX = "postern.cluster.queue.";

  private Addresses() {
  }

  /** The address a message event of this kind is published on. */
  public static String event(MessageEvent.Kind kind) {
    return EVENT_PREFIX + kind.wire();
  }

  /** The address of instance {@code n} of the verticle that serves {@code address}: {@code address.n}. */
  public static String ofInstance(String address, int n) {
    return address + "." + n;
  }
}
