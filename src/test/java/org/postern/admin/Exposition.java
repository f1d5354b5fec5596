package org.postern.admin;

import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A scrape in the Prometheus text format, parsed: each sample line ({@code name{a="x",b="y"} 1.0})
 * becomes a series keyed by its name and its labels in name order, so a test asks for one series
 * with {@link #value}. Comment lines ({@code # HELP}, {@code # TYPE}) are kept apart by name.
 */
final class Exposition {
  private static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? (\\S+)");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

  private final Map<String, Double> series = new TreeMap<>();
  private final Map<String, String> types = new TreeMap<>();
  private final String text;

  Exposition(String text) {
    this.text = text;
    for (String line : text.split("\n")) {
      if (line.startsWith("# TYPE ")) {
        String[] f = line.split(" ");
        types.put(f[2], f[3]);
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      if (line.startsWith("#") || !m.matches()) {
        continue;
      }
      Map<String, String> labels = new TreeMap<>();
      if (m.group(2) != null) {
        Matcher l = LABEL.matcher(m.group(2));
        while (l.find()) {
          labels.put(l.group(1), l.group(2));
        }
      }
      series.put(key(m.group(1), labels), Double.parseDouble(m.group(3)));
    }
  }

  private static String key(String name, Map<String, String> labels) {
    return name + new TreeMap<>(labels);
  }

  /** The value of the series {@code name} with exactly these labels (as pairs), or null when absent. */
  Double value(String name, String... labels) {
    Map<String, String> l = new TreeMap<>();
    for (int i = 0; i < labels.length; i += 2) {
      l.put(labels[i], labels[i + 1]);
    }
    return series.get(key(name, l));
  }

  /** The sum of every series named {@code name}, whatever its labels (0 when there is none). */
  double sum(String name) {
    return series.entrySet().stream().filter(e -> e.getKey().startsWith(name + "{"))
        .mapToDouble(Map.Entry::getValue).sum();
  }

  /** The series named {@code name} with their labels, for an assertion's message. */
  String seriesOf(String name) {
    return series.keySet().stream().filter(k -> k.startsWith(name + "{")).toList().toString();
  }

  String type(String name) {
    return types.get(name);
  }

  boolean has(String name) {
    return series.keySet().stream().anyMatch(k -> k.startsWith(name + "{"));
  }

  @Override
  public String toString() {
    return text;
  }
}
