package org.postern.config;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

import java.io.StringReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A YAML mapping read with its line numbers, so that every refusal names file, line and option.
 * Options are read by typed accessors; {@link #rejectUnknown()} then refuses any key nobody read,
 * which catches typos such as {@code mesage_size_limit} instead of silently ignoring them.
 */
public final class YamlSection {
  private static final Pattern EXIM_TIME = Pattern.compile("(\\d+)(ms|[wdhms])");
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kKmMgG]?)");

  private final String file;
  private final String path;
  private final Node node;
  private final Map<String, NodeTuple> entries = new LinkedHashMap<>();
  /** The file of each option taken from another file by {@link #overriddenBy}; the others are {@link #file}'s. */
  private final Map<String, String> files = new LinkedHashMap<>();
  private final Set<String> read = new HashSet<>();
  /** Every option read in this file, by qualified name, with the value in force (given or default), for {@code -bP}. */
  private final Map<String, String> effective;

  private YamlSection(String file, String path, Node node, Map<String, String> effective) throws ConfigException {
    this.file = file;
    this.path = path;
    this.node = node;
    this.effective = effective;
    if (node instanceof MappingNode mapping) {
      for (NodeTuple t : mapping.getValue()) {
        if (!(t.getKeyNode() instanceof ScalarNode key)) {
          throw new ConfigException(file, line(t.getKeyNode()), path, "keys must be plain names");
        }
        if (entries.put(key.getValue(), t) != null) {
          throw new ConfigException(file, line(key), qualified(key.getValue()), "option given twice");
        }
      }
    } else if (node != null) {
      throw new ConfigException(file, line(node), path, "expected a mapping of option: value");
    }
  }

  /**
   * This section with {@code over}'s options replacing (or adding to) its own, for node.yaml over
   * postern.yaml: each option is read from where it was written, and refusals name that file and
   * line. {@code over} must hold only options of {@code allowed}; any other is refused with
   * {@code reason}.
   */
  public YamlSection overriddenBy(YamlSection over, Set<String> allowed, String reason) throws ConfigException {
    YamlSection merged = new YamlSection(file, path, node, effective);
    merged.files.putAll(files);
    for (Map.Entry<String, NodeTuple> e : over.entries.entrySet()) {
      if (!allowed.contains(e.getKey())) {
        throw over.error(e.getKey(), reason);
      }
      merged.entries.put(e.getKey(), e.getValue());
      merged.files.put(e.getKey(), over.fileOf(e.getKey()));
    }
    return merged;
  }

  /** Parses a whole file; an empty file is an empty section. */
  public static YamlSection parse(String file, String text) throws ConfigException {
    return parse(file, text, new LinkedHashMap<>());
  }

  /** As {@link #parse(String, String)}, noting every option read, with its value in force, into {@code effective}. */
  static YamlSection parse(String file, String text, Map<String, String> effective) throws ConfigException {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setMaxAliasesForCollections(10);
    options.setCodePointLimit(4 * 1024 * 1024);
    try {
      Node root = new Yaml(options).compose(new StringReader(text));
      return new YamlSection(file, null, root, effective);
    } catch (MarkedYAMLException e) {
      int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
      throw new ConfigException(file, line, null, "YAML syntax: " + e.getProblem());
    } catch (YAMLException e) {
      throw new ConfigException(file, 0, null, "YAML syntax: " + e.getMessage());
    }
  }

  public String file() {
    return file;
  }

  public Set<String> keys() {
    return entries.keySet();
  }

  public boolean has(String key) {
    return entries.containsKey(key);
  }

  /** Line of the key, or of the section itself when the key is absent. */
  public int line(String key) {
    NodeTuple t = entries.get(key);
    return t == null ? (node == null ? 0 : line(node)) : line(t.getKeyNode());
  }

  public int line() {
    return node == null ? 0 : line(node);
  }

  public ConfigException error(String key, String reason) {
    return new ConfigException(fileOf(key), line(key), qualified(key), reason);
  }

  public String string(String key, String defaultValue) throws ConfigException {
    Node value = value(key);
    if (value == null) {
      return noted(key, defaultValue, defaultValue == null ? "" : defaultValue);
    }
    if (value instanceof ScalarNode s) {
      return noted(key, s.getValue(), s.getValue());
    }
    throw error(key, "expected a single value");
  }

  /** Notes the value in force for {@code -bP} and returns it. */
  private <T> T noted(String key, T value, String shown) {
    effective.put(qualified(key), shown);
    return value;
  }

  /** A list option, given either as Exim's colon-separated string or as a YAML sequence. */
  public List<String> list(String key, List<String> defaultValue) throws ConfigException {
    Node value = value(key);
    if (value == null) {
      return noted(key, defaultValue, defaultValue == null ? "" : String.join(" : ", defaultValue));
    }
    if (value instanceof SequenceNode seq) {
      List<String> items = new ArrayList<>();
      for (Node item : seq.getValue()) {
        if (!(item instanceof ScalarNode s)) {
          throw new ConfigException(fileOf(key), line(item), qualified(key), "list items must be plain values");
        }
        items.add(s.getValue());
      }
      return noted(key, items, String.join(" : ", items));
    }
    if (value instanceof ScalarNode s) {
      return noted(key, List.of(s.getValue()), s.getValue());
    }
    throw error(key, "expected a list");
  }

  public boolean bool(String key, boolean defaultValue) throws ConfigException {
    String v = string(key, null);
    if (v == null) {
      return noted(key, defaultValue, Boolean.toString(defaultValue));
    }
    switch (v.toLowerCase(Locale.ROOT)) {
      case "true", "yes", "on" -> {
        return true;
      }
      case "false", "no", "off" -> {
        return false;
      }
      default -> throw error(key, "expected true or false, got \"" + v + "\"");
    }
  }

  public int integer(String key, int defaultValue, int min, int max) throws ConfigException {
    String v = string(key, null);
    if (v == null) {
      return noted(key, defaultValue, Integer.toString(defaultValue));
    }
    try {
      int n = Integer.parseInt(v.trim());
      if (n < min || n > max) {
        throw error(key, "must be between " + min + " and " + max + ", got " + n);
      }
      return n;
    } catch (NumberFormatException e) {
      throw error(key, "not a number: \"" + v + "\"");
    }
  }

  /** A size with Exim's suffixes: {@code 50M}, {@code 10k}, {@code 1G}; 0 means no limit where the option allows it. */
  public long size(String key, long defaultValue) throws ConfigException {
    String v = string(key, null);
    if (v == null) {
      return noted(key, defaultValue, sizeText(defaultValue));
    }
    Matcher m = SIZE.matcher(v.trim());
    if (!m.matches()) {
      throw error(key, "not a size: \"" + v + "\" (use e.g. 50M, 512K or a number of bytes)");
    }
    try {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2).toUpperCase(Locale.ROOT)) {
        case "K" -> Math.multiplyExact(n, 1024L);
        case "M" -> Math.multiplyExact(n, 1024L * 1024);
        case "G" -> Math.multiplyExact(n, 1024L * 1024 * 1024);
        default -> n;
      };
    } catch (NumberFormatException | ArithmeticException e) {
      throw error(key, "size too large: \"" + v + "\"");
    }
  }

  /**
   * A time with Exim's syntax: {@code 5m}, {@code 1h30m}, {@code 2d}, or a number of seconds;
   * {@code ms} is accepted too, for sub-second delays.
   */
  public Duration duration(String key, Duration defaultValue) throws ConfigException {
    String v = string(key, null);
    if (v == null) {
      return noted(key, defaultValue, defaultValue == null ? "" : timeText(defaultValue));
    }
    try {
      return parseTime(v.trim(), key, v);
    } catch (NumberFormatException | ArithmeticException e) {
      throw error(key, "time too large: \"" + v + "\"");
    }
  }

  private Duration parseTime(String t, String key, String v) throws ConfigException {
    if (t.matches("\\d+")) {
      return Duration.ofSeconds(Long.parseLong(t));
    }
    Matcher m = EXIM_TIME.matcher(t);
    long millis = 0;
    int end = 0;
    while (m.find() && m.start() == end) {
      long n = Long.parseLong(m.group(1));
      millis = Math.addExact(millis, Math.multiplyExact(n, switch (m.group(2)) {
        case "w" -> 7 * 86_400_000L;
        case "d" -> 86_400_000L;
        case "h" -> 3_600_000L;
        case "m" -> 60_000L;
        case "ms" -> 1L;
        default -> 1000L;
      }));
      end = m.end();
    }
    if (end != t.length() || t.isEmpty()) {
      throw error(key, "not a time: \"" + v + "\" (use e.g. 30s, 5m, 1h30m, 2d)");
    }
    return Duration.ofMillis(millis);
  }

  /** A size as Exim writes it: the largest of G, M, K that divides it. */
  static String sizeText(long bytes) {
    for (String unit : List.of("G", "M", "K")) {
      long factor = switch (unit) {
        case "G" -> 1L << 30;
        case "M" -> 1L << 20;
        default -> 1L << 10;
      };
      if (bytes != 0 && bytes % factor == 0) {
        return bytes / factor + unit;
      }
    }
    return Long.toString(bytes);
  }

  /** A time as Exim writes it: {@code 1h30m}, {@code 2d}, {@code 30s}, {@code 0s}. */
  static String timeText(Duration d) {
    long millis = d.toMillis();
    if (millis % 1000 != 0) {
      return millis + "ms";
    }
    long seconds = millis / 1000;
    StringBuilder sb = new StringBuilder();
    long[] units = {7 * 86_400, 86_400, 3600, 60, 1};
    String[] names = {"w", "d", "h", "m", "s"};
    for (int i = 0; i < units.length; i++) {
      if (seconds >= units[i]) {
        sb.append(seconds / units[i]).append(names[i]);
        seconds %= units[i];
      }
    }
    return sb.length() == 0 ? "0s" : sb.toString();
  }

  /** The options read so far with their values in force, in the order read. */
  Map<String, String> effective() {
    return effective;
  }

  /** True when the option is written as a YAML sequence rather than one (colon-separated) string. */
  public boolean isSequence(String key) {
    NodeTuple t = entries.get(key);
    return t != null && t.getValueNode() instanceof SequenceNode;
  }

  /** A nested mapping, or null when absent. */
  public YamlSection section(String key) throws ConfigException {
    Node value = value(key);
    if (value == null) {
      return null;
    }
    return new YamlSection(fileOf(key), qualified(key), value, effective);
  }

  private String fileOf(String key) {
    return files.getOrDefault(key, file);
  }

  /** A sequence of nodes, each exposed as a section when it is a mapping. */
  public List<Node> sequence(String key) throws ConfigException {
    Node value = value(key);
    if (value == null) {
      return List.of();
    }
    if (value instanceof SequenceNode seq) {
      return seq.getValue();
    }
    throw error(key, "expected a list");
  }

  /** Wraps a node found in a sequence. */
  public YamlSection child(String name, Node child) throws ConfigException {
    return new YamlSection(file, qualified(name), child, effective);
  }

  /** Refuses any option this section holds that no accessor asked for. */
  public void rejectUnknown() throws ConfigException {
    for (String key : entries.keySet()) {
      if (!read.contains(key)) {
        throw error(key, "unknown option");
      }
    }
  }

  public static int line(Node n) {
    return n.getStartMark() == null ? 0 : n.getStartMark().getLine() + 1;
  }

  private Node value(String key) {
    NodeTuple t = entries.get(key);
    read.add(key);
    if (t == null) {
      return null;
    }
    Node v = t.getValueNode();
    if (v instanceof ScalarNode s && s.getTag().getValue().endsWith(":null")) {
      return null;
    }
    return v;
  }

  private String qualified(String key) {
    return path == null ? key : path + "." + key;
  }
}
