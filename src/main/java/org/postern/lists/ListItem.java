package org.postern.lists;

import java.util.List;
import java.util.function.Predicate;

/**
 * One item of an Exim list and the rule every Exim list follows: items are tried in order, the
 * first that matches decides (a negated item says "not in the list"), and a list whose last item
 * is negated holds everything no item matched, as if it ended in {@code *}.
 *
 * @param <T> what the list is matched against (an address, a domain, a client)
 */
record ListItem<T>(boolean negated, Predicate<T> test) {

  static <T> boolean matches(List<ListItem<T>> items, T subject) {
    boolean lastNegated = false;
    for (ListItem<T> item : items) {
      lastNegated = item.negated;
      if (item.test.test(subject)) {
        return !item.negated;
      }
    }
    return lastNegated;
  }
}
