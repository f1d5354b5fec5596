package org.postern.bus;

/**
 * Event-bus addresses of Postern's verticles. A plugin is a verticle that consumes one of these
 * (or a new {@code postern.acl.condition.*}, {@code postern.auth.*} or {@code postern.deliver.*}
 * address that the configuration refers to). A message body is a {@link BusRecord} of this package
 * (node-local traffic, through {@link BusCodecs}) or its JSON form (cluster-wide and plugin-facing
 * traffic, {@code docs/plugins.md}).
 */
public final class Addresses {
  /** A new connection: connection facts in, greeting reply (after the connect ACL) out. */
  public static final String SESSION_OPEN = "postern.session.open";
  /** One command line of a session: reply text and the action the listener must take. */
  public static final String SESSION_COMMAND = "postern.session.command";
  /** End of DATA: the spooled message's facts in, final reply and envelope to commit out. */
  public static final String SESSION_DATA = "postern.session.data";
  /** STARTTLS finished: {@code {id, tls: facts}} or {@code {id, failed: true}}; the session resets to the greeting. */
  public static final String SESSION_TLS = "postern.session.tls";
  /** The connection is gone (QUIT or not); the session forgets its state. Fire and forget. */
  public static final String SESSION_CLOSE = "postern.session.close";
  /** ACL evaluation: {@code {stage, variables}} in, {@code AclVerdict} JSON out. */
  public static final String ACL_CHECK = "postern.acl.check";
  /** Prefix of plugin ACL conditions: {@code postern.acl.condition.<name>}. */
  public static final String ACL_CONDITION_PREFIX = "postern.acl.condition.";
  /** Prefix of SASL mechanisms: {@code postern.auth.PLAIN}, ...; {@code postern.auth.cancel} ends an exchange. */
  public static final String AUTH_PREFIX = "postern.auth.";
  /** A committed message: {@link EnqueueRequest} in, {@link EnqueueReply} once its first delivery attempt is over. */
  public static final String QUEUE_ENQUEUE = "postern.queue.enqueue";
  /** Queue run request (cluster-wide, JSON): {@link QueueFlushRequest} in, {@link QueueFlushReply} out. */
  public static final String QUEUE_FLUSH = "postern.queue.flush";
  /**
   * Prefix of delivery transports, {@code postern.deliver.<transport>}: {@link DeliveryRequest} in,
   * {@link DeliveryResult} out.
   */
  public static final String DELIVER_PREFIX = "postern.deliver.";
  /** Published (cluster-wide) after a configuration generation was accepted: {@code {generation}}. */
  public static final String CONFIG_CHANGED = "postern.config.changed";
  /**
   * Published (cluster-wide) when a changed configuration was refused and the previous generation
   * stays in force: {@code {error}}, the refusal with file, line and option as the log has it.
   */
  public static final String CONFIG_REFUSED = "postern.config.refused";
  /** Ask every node to re-read its configuration now. */
  public static final String CONFIG_RELOAD = "postern.config.reload";

  private Addresses() {
  }
}
