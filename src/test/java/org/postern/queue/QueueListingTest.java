package org.postern.queue;

import org.junit.jupiter.api.Test;
import org.postern.spool.Envelope;
import org.postern.spool.Envelope.Recipient;
import org.postern.spool.Envelope.Recipient.State;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class QueueListingTest {
  private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-03-01T12:00:00Z"), ZoneOffset.UTC);

  private static Envelope envelope(String id, String sender, Duration age, long size, boolean frozen,
                                   Recipient... recipients) {
    long received = CLOCK.instant().minus(age).toEpochMilli();
    return new Envelope(id, sender, List.of(recipients), received, "192.0.2.9", 40000, "client.example", "esmtp",
        "192.0.2.1", 25, null, "7BIT", size, frozen);
  }

  private static Recipient rcpt(String address, State state) {
    int at = address.indexOf('@');
    return new Recipient(address, address.substring(0, at), address.substring(at + 1), state);
  }

  @Test
  void listsMessagesAsEximDoes() {
    List<Envelope> queue = List.of(
        envelope("1abcDE-0000AB-Cd", "alice@example.org", Duration.ofMinutes(25), 2970, false,
            rcpt("bob@example.net", State.PENDING), rcpt("carol@example.net", State.DELIVERED)),
        envelope("1abcDF-0000AB-Ce", "", Duration.ofHours(42), 1_300, true,
            rcpt("alice@example.org", State.PENDING)),
        envelope("1abcDG-0000AB-Cf", "list@example.com", Duration.ofDays(4), 512, false,
            rcpt("dave@example.net", State.FAILED), rcpt("erin@example.net", State.PENDING)),
        envelope("1abcDH-0000AB-Cg", "big@example.com", Duration.ofDays(21).plusHours(3), 1_153_434, false,
            rcpt("frank@example.net", State.PENDING)));
    assertEquals("""
        25m  2.9K 1abcDE-0000AB-Cd <alice@example.org>
                  bob@example.net
                D carol@example.net

        42h  1.3K 1abcDF-0000AB-Ce <> *** frozen ***
                  alice@example.org

         4d   512 1abcDG-0000AB-Cf <list@example.com>
                D dave@example.net
                  erin@example.net

        21d  1.1M 1abcDH-0000AB-Cg <big@example.com>
                  frank@example.net

        """, QueueListing.list(queue, CLOCK.instant()));
    assertEquals("""
        25m  2.9K 1abcDE-0000AB-Cd <alice@example.org>
                  bob@example.net

        42h  1.3K 1abcDF-0000AB-Ce <> *** frozen ***
                  alice@example.org

         4d   512 1abcDG-0000AB-Cf <list@example.com>
                  erin@example.net

        21d  1.1M 1abcDH-0000AB-Cg <big@example.com>
                  frank@example.net

        """, QueueListing.listUndelivered(queue, CLOCK.instant()));
    assertEquals("4\n", QueueListing.count(queue));
  }

  @Test
  void showsTheDsnValuesAfterTheAddresses() {
    Envelope e = envelope("1abcDE-0000AB-Cd", "alice@example.org", Duration.ofMinutes(25), 2970, false,
        new Recipient("bob@example.net", "bob", "example.net", State.PENDING, "SUCCESS,DELAY", "rfc822;b@x.example"),
        rcpt("carol@example.net", State.PENDING)).withDsn("HDRS", "env 1");
    assertEquals("""
        25m  2.9K 1abcDE-0000AB-Cd <alice@example.org> RET=HDRS ENVID=env 1
                  bob@example.net NOTIFY=SUCCESS,DELAY ORCPT=rfc822;b@x.example
                  carol@example.net

        """, QueueListing.list(List.of(e), CLOCK.instant()));
  }

  @Test
  void emptyQueue() {
    assertEquals("", QueueListing.list(List.of(), CLOCK.instant()));
    assertEquals("0\n", QueueListing.count(List.of()));
  }

  @Test
  void ageBoundaries() {
    assertEquals(" 0m", QueueListing.age(59));
    assertEquals(" 0m", QueueListing.age(-300));
    assertEquals(" 1m", QueueListing.age(60));
    assertEquals("90m", QueueListing.age(90 * 60 + 59));
    assertEquals(" 2h", QueueListing.age(91 * 60));
    assertEquals(" 2h", QueueListing.age(149 * 60));
    assertEquals(" 3h", QueueListing.age(150 * 60));
    assertEquals("72h", QueueListing.age(72 * 3600 + 29 * 60));
    assertEquals(" 3d", QueueListing.age(72 * 3600 + 30 * 60));
    assertEquals(" 4d", QueueListing.age(84 * 3600));
    assertEquals("100d", QueueListing.age(100L * 86400));
  }

  @Test
  void sizeBoundaries() {
    assertEquals("     ", QueueListing.size(0));
    assertEquals("    1", QueueListing.size(1));
    assertEquals(" 1023", QueueListing.size(1023));
    assertEquals(" 1.0K", QueueListing.size(1024));
    assertEquals(" 9.9K", QueueListing.size(10 * 1024 - 100));
    assertEquals("  10K", QueueListing.size(10 * 1024));
    assertEquals("  11K", QueueListing.size(10 * 1024 + 512));
    assertEquals("1024K", QueueListing.size(1024 * 1024 - 1));
    assertEquals(" 1.0M", QueueListing.size(1024 * 1024));
    assertEquals("  10M", QueueListing.size(10 * 1024 * 1024));
    assertEquals(" 100M", QueueListing.size(100L * 1024 * 1024 + 1));
  }
}
