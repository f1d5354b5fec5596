package org.postern.cluster;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import org.postern.bus.Addresses;
import org.postern.bus.ConfigGeneration;
import org.postern.bus.NodeStatus;
import org.postern.bus.QueueFlushReply;
import org.postern.config.ClusterSettings;
import org.postern.config.ConfigHolder;
import org.postern.config.GenerationFiles;
import org.postern.config.PosternConfig;
import org.postern.log.MainLog;
import org.postern.queue.QueueListing;
import org.postern.spool.Spool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * This node's part of the cluster, deployed first in clustered mode.
 *
 * <p>At start, before anything serves: claims the node's {@code localhost_number} (refusing to start
 * when a live node holds it: message ids would collide) and adopts the cluster's current
 * configuration generation (or makes this node's the first one).
 *
 * <p>Then: decides proposals ({@link Addresses#CLUSTER_CONFIG_PROPOSE}) by compare-and-set on the
 * cluster's current-generation entry, so that of two concurrent edits exactly one wins; publishes
 * the winner ({@link Addresses#CLUSTER_GENERATION}, for observers); hands every new current
 * generation (a Hazelcast entry event on every member) to the local ConfigVerticle in serial order;
 * and keeps this node's {@link NodeStatus} current.
 */
public final class ClusterVerticle extends VerticleBase {
  /** Cluster-wide map of the current generation, key {@value #CURRENT}. */
  static final String CONFIG_MAP = "postern.cluster.config";
  static final String CURRENT = "current";
  /** Cluster-wide map of {@link NodeStatus} by node id. */
  static final String NODES_MAP = "postern.cluster.nodes";
  /** Cluster-wide map of {@code localhost_number} to the node id holding it. */
  static final String NUMBERS_MAP = "postern.cluster.localhost_numbers";
  private static final Logger LOG = LoggerFactory.getLogger(ClusterVerticle.class);

  private final ClusterNode node;
  private final ClusterSettings settings;
  private final Path configFile;
  private ConfigHolder holder;
  private NodeStatus status;
  /** Generations from the cluster are adopted one after another, in the order they arrive. */
  private Future<?> adopting = Future.succeededFuture();
  private long adoptedSerial;
  private UUID generationListener;

  public ClusterVerticle(ClusterNode node, ClusterSettings settings, Path configFile) {
    this.node = node;
    this.settings = settings;
    this.configFile = configFile;
  }

  @Override
  public Future<?> start() {
    holder = ConfigHolder.of(vertx);
    PosternConfig config = holder.current();
    status = new NodeStatus(node.nodeId(), config.primaryHostname(), settings.address(), config.generation(),
        null);
    var bus = vertx.eventBus();
    bus.<JsonObject>localConsumer(Addresses.CLUSTER_CONFIG_PROPOSE, msg -> propose(ConfigGeneration.fromJson(msg.body()))
        .onSuccess(g -> msg.reply(g.toJson()))
        .onFailure(e -> msg.fail(500, e.getMessage())));
    // A swap to another generation ends a refusal; a refusal is recorded where a cluster generation is refused.
    bus.<JsonObject>localConsumer(Addresses.CONFIG_CHANGED, msg -> {
      String generation = msg.body().getString("generation");
      if (!generation.equals(status.generation())) {
        report(status.with(generation, null));
      }
    });
    bus.<JsonObject>localConsumer(Addresses.CLUSTER_QUEUE_FLUSH, msg -> new ClusterCommands(node)
        .eachNode(msg.body(), msg.body().getBoolean("wait", false) ? 3_600_000 : 30_000)
        .onSuccess(answers -> msg.reply(answers.stream().map(QueueFlushReply::fromJson)
            .reduce(new QueueFlushReply(0), QueueFlushReply::plus).toJson()))
        .onFailure(e -> msg.fail(500, e.getMessage())));
    return claimLocalhostNumber(config)
        .compose(v -> joinGeneration(config))
        .compose(v -> watchGeneration())
        .compose(v -> bus.<JsonObject>consumer(Addresses.CLUSTER_QUEUE_PREFIX + node.nodeId(), this::queue).completion())
        .compose(v -> report(status));
  }

  @Override
  public Future<?> stop() {
    if (generationListener != null) {
      node.hazelcast().getMap(CONFIG_MAP).removeEntryListener(generationListener);
    }
    return map(NODES_MAP).compose(m -> m.remove(node.nodeId())).otherwiseEmpty();
  }

  /**
   * Every change of the cluster's current-generation entry reaches this node as a Hazelcast entry
   * event: the entry is the truth, and its listener is registered on every member before anything
   * changes (an event-bus publish would look its consumers up in Hazelcast on first use, which cost
   * seconds on a loaded machine).
   */
  private Future<Void> watchGeneration() {
    Context context = vertx.getOrCreateContext();
    IMap<String, String> current = node.hazelcast().getMap(CONFIG_MAP);
    return vertx.executeBlocking(() -> {
      generationListener = current.addEntryListener(new GenerationListener(json -> context.runOnContext(v ->
          received(ConfigGeneration.fromJson(new JsonObject(json))))), CURRENT, true);
      return null;
    }, false);
  }

  /** Hands each new value of the current-generation entry on. */
  private record GenerationListener(Consumer<String> values)
      implements EntryAddedListener<String, String>,
      EntryUpdatedListener<String, String> {
    @Override
    public void entryAdded(EntryEvent<String, String> event) {
      values.accept(event.getValue());
    }

    @Override
    public void entryUpdated(EntryEvent<String, String> event) {
      values.accept(event.getValue());
    }
  }

  private Future<AsyncMap<String, String>> map(String name) {
    return vertx.sharedData().getClusterWideMap(name);
  }

  /**
   * Exim's way to keep message ids unique across hosts: each node has its own {@code localhost_number},
   * which goes into every id. Two live nodes with the same number would make the same ids. The
   * command line has made sure there is one.
   */
  private Future<Void> claimLocalhostNumber(PosternConfig config) {
    String number = String.valueOf(config.localhostNumber());
    return map(NUMBERS_MAP).compose(m -> m.putIfAbsent(number, node.nodeId()).<Void>compose(holderId -> {
      if (holderId == null || holderId.equals(node.nodeId())) {
        return Future.succeededFuture();
      }
      if (node.liveNodes().contains(holderId)) {
        return Future.failedFuture("localhost_number " + number + " is already used by a running node of cluster "
            + settings.name() + " (node id " + holderId + "): message ids would collide");
      }
      // Left over by a node that is gone.
      return m.replaceIfPresent(number, holderId, node.nodeId()).compose(taken -> taken ? Future.<Void>succeededFuture()
          : Future.failedFuture("localhost_number " + number + " was just taken by another node"));
    }));
  }

  /** A node that joins adopts the cluster's current generation before it serves; the first one sets it. */
  private Future<Void> joinGeneration(PosternConfig config) {
    ConfigGeneration mine = GenerationFiles.of(config, "", config.primaryHostname()).succeeding("", 1);
    return map(CONFIG_MAP).compose(m -> m.putIfAbsent(CURRENT, mine.toJson().encode())).<Void>compose(existing -> {
      if (existing == null) {
        LOG.info("cluster {}: this node's configuration generation {} is the cluster's first", settings.name(),
            config.generation());
        adoptedSerial = 1;
        return Future.succeededFuture();
      }
      ConfigGeneration current = ConfigGeneration.fromJson(new JsonObject(existing));
      adoptedSerial = current.serial();
      if (current.id().equals(config.generation())) {
        return Future.succeededFuture();
      }
      return vertx.executeBlocking(() -> {
        PosternConfig adopted = GenerationFiles.parse(configFile, current, config.nodeSettings());
        GenerationFiles.write(configFile, current);
        return adopted;
      }, false).map(adopted -> {
        holder.set(adopted);
        status = status.with(adopted.generation(), null);
        String line = "configuration generation " + adopted.generation() + " adopted from the cluster (was "
            + config.generation() + " here)";
        LOG.info(line);
        MainLog.write(line);
        return (Void) null;
      }).recover(e -> {
        String why = "generation " + current.id() + " from " + current.origin() + " refused: " + e.getMessage();
        LOG.error("configuration refused, generation {} stays in force: {}", config.generation(), why);
        MainLog.write("configuration refused, generation " + config.generation() + " stays in force: " + why);
        status = status.with(config.generation(), why);
        return Future.succeededFuture();
      });
    });
  }

  /**
   * The deterministic rule for concurrent edits: a change becomes the cluster's generation only by
   * a compare-and-set of the current-generation entry from the generation its node had in force.
   * The first to set it wins; a proposal made on an older generation, or whose set failed, loses,
   * and the answer is the winner, which its node then adopts.
   */
  private Future<ConfigGeneration> propose(ConfigGeneration proposal) {
    return map(CONFIG_MAP).compose(m -> m.get(CURRENT).<ConfigGeneration>compose(stored -> {
      if (stored == null) {
        ConfigGeneration first = proposal.succeeding("", 1);
        return m.putIfAbsent(CURRENT, first.toJson().encode()).compose(other -> other == null ? published(first)
            : Future.<ConfigGeneration>succeededFuture(ConfigGeneration.fromJson(new JsonObject(other))));
      }
      ConfigGeneration current = ConfigGeneration.fromJson(new JsonObject(stored));
      if (current.id().equals(proposal.id()) || !current.id().equals(proposal.parent())) {
        return Future.succeededFuture(current);
      }
      ConfigGeneration next = proposal.succeeding(current.id(), current.serial() + 1);
      return m.replaceIfPresent(CURRENT, stored, next.toJson().encode()).compose(won -> won ? published(next)
          : m.get(CURRENT).<ConfigGeneration>map(now -> ConfigGeneration.fromJson(new JsonObject(now))));
    }));
  }

  private Future<ConfigGeneration> published(ConfigGeneration generation) {
    adoptedSerial = Math.max(adoptedSerial, generation.serial());
    String line = "configuration generation " + generation.id() + " (serial " + generation.serial()
        + ") is the cluster's, published";
    LOG.info(line);
    MainLog.write(line);
    vertx.eventBus().publish(Addresses.CLUSTER_GENERATION, generation.toJson());
    return Future.succeededFuture(generation);
  }

  /** A generation that became the cluster's: adopted here in serial order, unless already in force. */
  private void received(ConfigGeneration generation) {
    adopting = adopting.eventually(() -> adopt(generation));
  }

  private Future<Void> adopt(ConfigGeneration generation) {
    // Older than one already seen here: a later generation replaced it.
    if (generation.serial() < adoptedSerial) {
      return Future.succeededFuture();
    }
    adoptedSerial = generation.serial();
    if (holder.current().generation().equals(generation.id())) {
      // Back to what is in force here (say, a refused change taken back): nothing refused any more.
      return report(status.with(generation.id(), null));
    }
    return vertx.eventBus().request(Addresses.CONFIG_ADOPT, generation.toJson(),
            new DeliveryOptions().setLocalOnly(true).setSendTimeout(30_000))
        .onSuccess(r -> MainLog.write("configuration generation " + generation.id() + " from " + generation.origin()
            + " in force (serial " + generation.serial() + ")"))
        .<Void>mapEmpty()
        .recover(e -> report(status.with(holder.current().generation(), e.getMessage())));
  }

  /**
   * This node's part of a cluster-wide queue command: {@code {list: all|undelivered|count}} is
   * answered with this node's listing, anything else is a queue run handed to the local queue.
   */
  private void queue(Message<JsonObject> msg) {
    String list = msg.body().getString(ClusterCommands.LIST);
    if (list != null) {
      vertx.executeBlocking(() -> QueueListing.of(QueueListing.Kind.valueOf(list.toUpperCase(java.util.Locale.ROOT)),
              new Spool(holder.current().spoolDirectory())), false)
          .onSuccess(text -> msg.reply(new JsonObject().put("node", status.name()).put(ClusterCommands.LIST, text)))
          .onFailure(e -> msg.fail(500, status.name() + ": " + e.getMessage()));
      return;
    }
    vertx.eventBus().<JsonObject>request(Addresses.QUEUE_FLUSH, msg.body(),
            new DeliveryOptions().setLocalOnly(true).setSendTimeout(msg.body().getBoolean("wait", false)
                ? 3_600_000 : 30_000))
        .onSuccess(r -> msg.reply(r.body().copy().put("node", status.name())))
        .onFailure(e -> msg.fail(500, status.name() + ": " + e.getMessage()));
  }

  private Future<Void> report(NodeStatus now) {
    status = now;
    return map(NODES_MAP).compose(m -> m.put(node.nodeId(), now.toJson().encode()))
        .onFailure(e -> LOG.warn("cluster: node status not recorded: {}", e.getMessage()));
  }
}
