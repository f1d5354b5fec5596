package org.postern.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One counter name with one or two tag keys, each combination of tag values registered once and
 * then found by its values. Micrometer's {@code Counter.builder(...).tag(...).register(registry)}
 * makes a builder, tag arrays and an id and looks the id up on every call; the bus observers called
 * it for every SMTP command and reply, a fifth of what a NOOP allocated. The tag values here are
 * bounded sets (verbs, reply classes, stages, listeners), so the maps stay small.
 */
final class TaggedCounters {
  private final MeterRegistry registry;
  private final String name;
  private final String description;
  private final String firstKey;
  private final String secondKey;
  private final Map<String, Object> byFirst = new ConcurrentHashMap<>();

  private TaggedCounters(MeterRegistry registry, String name, String description, String firstKey, String secondKey) {
    this.registry = registry;
    this.name = name;
    this.description = description;
    this.firstKey = firstKey;
    this.secondKey = secondKey;
  }

  /** Counters of {@code name} told apart by the value of the tag {@code key}. */
  static TaggedCounters by(MeterRegistry registry, String name, String description, String key) {
    return new TaggedCounters(registry, name, description, key, null);
  }

  /** Counters of {@code name} told apart by the values of the tags {@code first} and {@code second}. */
  static TaggedCounters by(MeterRegistry registry, String name, String description, String first, String second) {
    return new TaggedCounters(registry, name, description, first, second);
  }

  /** The counter for this value of the one tag. */
  Counter of(String value) {
    if (secondKey != null) {
      throw new IllegalStateException(name + " has two tags");
    }
    return (Counter) byFirst.computeIfAbsent(value, v -> register(v, null));
  }

  /** The counter for these values of the two tags. */
  @SuppressWarnings("unchecked")
  Counter of(String first, String second) {
    if (secondKey == null) {
      throw new IllegalStateException(name + " has one tag");
    }
    Map<String, Counter> bySecond = (Map<String, Counter>) byFirst.computeIfAbsent(first, v -> new ConcurrentHashMap<>());
    return bySecond.computeIfAbsent(second, v -> register(first, v));
  }

  private Counter register(String first, String second) {
    Counter.Builder b = Counter.builder(name).description(description).tag(firstKey, first);
    return (second == null ? b : b.tag(secondKey, second)).register(registry);
  }
}
