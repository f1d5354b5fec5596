package org.postern.queue;

import org.junit.jupiter.api.Test;
import org.postern.dns.MailExchanger;

import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** RFC 5321 section 5.1 ordering of MX hosts, as the dnslookup router applies it. */
class MxOrderTest {
  private static List<String> names(List<MailExchanger> mx) {
    return mx.stream().map(MailExchanger::exchange).toList();
  }

  @Test
  void lowerPreferenceComesFirst() {
    List<MailExchanger> mx = List.of(new MailExchanger(30, "c.example"), new MailExchanger(10, "a.example"),
        new MailExchanger(20, "b.example"));
    assertEquals(List.of("a.example", "b.example", "c.example"),
        names(RemoteRouter.order(mx, "mx.test.example", new Random(1))));
  }

  @Test
  void equalPreferencesAreShuffledButStayInTheirRank() {
    List<MailExchanger> mx = List.of(new MailExchanger(10, "a.example"), new MailExchanger(10, "b.example"),
        new MailExchanger(5, "first.example"), new MailExchanger(20, "last.example"));
    Set<List<String>> seen = new HashSet<>();
    Random random = new Random(42);
    for (int i = 0; i < 64; i++) {
      List<String> order = names(RemoteRouter.order(mx, "mx.test.example", random));
      assertEquals("first.example", order.get(0));
      assertEquals("last.example", order.get(3));
      seen.add(order);
    }
    assertEquals(Set.of(List.of("first.example", "a.example", "b.example", "last.example"),
        List.of("first.example", "b.example", "a.example", "last.example")), seen);
  }

  @Test
  void whenWeAreAnMxOnlyBetterHostsRemain() {
    List<MailExchanger> mx = List.of(new MailExchanger(10, "primary.example"), new MailExchanger(20, "MX.test.example"),
        new MailExchanger(20, "peer.example"), new MailExchanger(30, "worse.example"));
    assertEquals(List.of("primary.example"), names(RemoteRouter.order(mx, "mx.test.example", new Random(1))));
  }

  @Test
  void whenWeAreTheBestMxNothingRemains() {
    List<MailExchanger> mx = List.of(new MailExchanger(10, "mx.test.example"), new MailExchanger(20, "b.example"));
    assertEquals(List.of(), RemoteRouter.order(mx, "mx.test.example", new Random(1)));
  }
}
