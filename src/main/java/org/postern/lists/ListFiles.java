package org.postern.lists;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * File items in Exim lists: an item that is an absolute path ({@code /etc/postern/blocked-hosts})
 * stands for the items in that file, one per line; empty lines and lines starting with {@code #}
 * are ignored. As in Exim, {@code !/path} inverts the sense of every item in the file, and a file
 * cannot name another file.
 *
 * <p>One instance reads the files of one configuration generation and remembers what it read, so
 * that the configuration can be reloaded when one of them changes. Reading is blocking: it runs
 * where the rest of the configuration is parsed, off the event loop.
 */
public final class ListFiles {
  /** A list item with where it came from, for error messages ("item 3", "/path line 7"). */
  record Item(String text, String origin) {
  }

  private final Map<Path, String> read = new LinkedHashMap<>();
  private final Map<Path, String> given;

  /** Reads every list file from disk. */
  public ListFiles() {
    this(Map.of());
  }

  /**
   * Takes the files in {@code given} as they are there (a configuration received from another
   * node) and reads only the others from disk.
   */
  public ListFiles(Map<Path, String> given) {
    this.given = Map.copyOf(given);
  }

  /** Every file read so far with its content, for change detection and the generation id. */
  public Map<Path, String> contents() {
    return Collections.unmodifiableMap(read);
  }

  /**
   * Replaces file items by the items in the files.
   *
   * @param kind  the list's kind for messages: "host", "domain", "address", "local part"
   * @param files where to read them; null means file items are not allowed here
   * @throws IllegalArgumentException for a missing or unreadable file, naming it
   */
  static List<Item> expand(List<String> items, String kind, ListFiles files) {
    List<Item> out = new ArrayList<>(items.size());
    for (int k = 0; k < items.size(); k++) {
      String text = items.get(k);
      boolean negated = text.startsWith("!");
      String body = negated ? HostList.ListSyntax.stripLeadingSpace(text.substring(1)) : text;
      if (!body.startsWith("/")) {
        out.add(new Item(text, "item " + (k + 1)));
        continue;
      }
      if (files == null) {
        throw new IllegalArgumentException("invalid " + kind + " list item " + (k + 1) + " \"" + text
            + "\": file names are not allowed here");
      }
      Path path = Path.of(body);
      List<String> lines = files.lines(path);
      for (int n = 0; n < lines.size(); n++) {
        String line = lines.get(n).strip();
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        String lineBody = line.startsWith("!") ? HostList.ListSyntax.stripLeadingSpace(line.substring(1)) : line;
        if (lineBody.startsWith("/")) {
          throw new IllegalArgumentException(path + " line " + (n + 1) + ": a list file cannot name another file");
        }
        boolean lineNegated = line.startsWith("!") != negated;
        out.add(new Item((lineNegated ? "!" : "") + lineBody, path + " line " + (n + 1)));
      }
    }
    return out;
  }

  private List<String> lines(Path path) {
    String text = read.get(path);
    if (text == null) {
      text = given.get(path);
    }
    if (text == null) {
      try {
        text = Files.readString(path, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read list file " + path + ": " + e.getMessage());
      }
    }
    read.put(path, text);
    return text.lines().toList();
  }
}
