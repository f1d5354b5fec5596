package org.postern.lists;

import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * An Exim local part list, as used by the {@code local_parts} ACL condition and named with
 * {@code localpartlist}: literal local parts, {@code *suffix} wildcards, {@code ^regex},
 * {@code +name}, {@code /path} files, each negatable with {@code !}, first match decides. The
 * items and their matching are those of a {@link DomainList} (without {@code @} items, which mean
 * nothing for a local part), compared without regard to case. Immutable and thread-safe.
 */
public final class LocalPartList {
  private final DomainList items;

  private LocalPartList(DomainList items) {
    this.items = items;
  }

  /**
   * @param sequence true when {@code items} holds one item per element (a YAML sequence)
   * @throws IllegalArgumentException naming the offending item
   */
  public static LocalPartList parse(List<String> items, boolean sequence, Function<String, LocalPartList> named,
                                    ListFiles files) {
    List<String> texts = sequence ? HostList.ListSyntax.trimAll(items)
        : HostList.ListSyntax.split(String.join(" : ", items));
    for (ListFiles.Item item : ListFiles.expand(texts, "local part", files)) {
      String body = item.text().startsWith("!") ? item.text().substring(1).strip() : item.text();
      if (body.startsWith("@")) {
        throw new IllegalArgumentException("invalid local part list " + item.origin() + " \"" + item.text()
            + "\": '@' items mean nothing in a local part list");
      }
    }
    Function<String, DomainList> namedDomains = named == null ? null : name -> {
      LocalPartList list = named.apply(name);
      return list == null ? null : list.items;
    };
    try {
      return new LocalPartList(DomainList.parse(texts, null, namedDomains, files));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(e.getMessage().replace("domain list", "local part list")
          .replace("named domain list", "named local part list"), e);
    }
  }

  public boolean matches(String localPart) {
    return items.matches(localPart.toLowerCase(Locale.ROOT));
  }

  public String spec() {
    return items.spec();
  }

  @Override
  public String toString() {
    return spec();
  }
}
