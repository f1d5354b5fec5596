package org.postern;

import org.junit.jupiter.api.Test;
import org.postern.testing.Await;
import org.postern.testing.ChildPostern;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Messages torn by a crash inside their commit (the spool renames the envelope into place before
 * the round of syncs, so after a power loss an {@code -H} may name bytes that never reached the
 * disk): made by hand in a real spool directory as a crash leaves them, in a boot before this one,
 * beside a whole message of that boot. Each reader must find them torn: {@code -bp} does not list
 * them, and the daemon's queue run does not deliver them; whoever finds one removes it and says so
 * in the main log. The seal is computed here from its documented format (README, spool), not by
 * the spool's code.
 */
class TornMessageTest {
  /** A boot that is not this one: the messages were written before a crash. */
  private static final String EARLIER_BOOT = "00000000-0000-4000-8000-000000000000";
  private static final String WHOLE = "1xXMqa-lXNrw2-0020";
  private static final String SHORT_CONTENT = "1xXMqa-lXNrw2-0021";
  private static final String BAD_ENVELOPE = "1xXMqa-lXNrw2-0022";
  private static final String BAD_CONTENT = "1xXMqa-lXNrw2-0023";

  @Test
  void tornMessagesAreNeitherListedNorDeliveredButMovedToCorruptWithAMainLogLine() throws Exception {
    int port = ChildPostern.freePort();
    try (PosternTestServer server = PosternTestServer.create()
        .option("listeners", "{ smtp: { address: 127.0.0.1, port: " + port + " } }")) {
      Path config = server.writeConfig();
      Path input = server.spoolInput();
      Files.createDirectories(input);
      MainLogFile log = new MainLogFile(server.root().resolve("log").resolve("mainlog"));
      writeTorn(input);
      writeMessage(input, WHOLE, "whole");

      // -bp: the whole message only; the torn ones are found, moved aside and logged.
      ChildPostern.Result listing = ChildPostern.run(server.root(), config, "", "-bp");
      assertEquals(0, listing.exit(), listing::toString);
      assertTrue(listing.stdout().contains(WHOLE), listing::toString);
      for (String torn : List.of(SHORT_CONTENT, BAD_ENVELOPE, BAD_CONTENT)) {
        assertFalse(listing.stdout().contains(torn), () -> torn + " listed: " + listing);
      }
      awaitMovedAside(log, input);

      // The daemon's queue run: the same torn messages again, as the crash left them.
      writeTorn(input);
      MainLogFile fromNow = log.fromNow();
      try (ChildPostern daemon = ChildPostern.daemon(server.root(), config, port)) {
        fromNow.await(30_000, WHOLE + " Completed");
        awaitMovedAside(fromNow, input);
        // The spool empty is the event: every delivery comes from it, so nothing more can arrive.
        List<String> left = Await.value(30_000, server::spoolFiles, List::isEmpty);
        assertEquals(List.of(), left, daemon::diagnostics);
        List<Path> box = server.mailbox("alice");
        assertEquals(1, box.size(), () -> "only the whole message may be delivered: " + box + "\n"
            + daemon.diagnostics());
        assertTrue(Files.readString(box.get(0), StandardCharsets.UTF_8).endsWith("\r\nSubject: whole\r\n\r\nbody\r\n"));
        for (String torn : List.of(SHORT_CONTENT, BAD_ENVELOPE, BAD_CONTENT)) {
          assertEquals(List.of(), fromNow.lines(torn, "=>"), () -> torn + " delivered");
        }
      }
    }
  }

  /** Each torn message's main-log line, and its files moved out of input/ into corrupt/, byte for byte. */
  private static void awaitMovedAside(MainLogFile log, Path input) throws Exception {
    log.await(30_000, SHORT_CONTENT + " moved to ", ": torn", "content is");
    log.await(30_000, BAD_ENVELOPE + " moved to ", ": torn", "envelope checksum mismatch");
    log.await(30_000, BAD_CONTENT + " moved to ", ": torn", "content checksum mismatch");
    Path corrupt = input.resolveSibling("corrupt");
    for (String torn : List.of(SHORT_CONTENT, BAD_ENVELOPE, BAD_CONTENT)) {
      assertFalse(Files.exists(input.resolve(torn + "-H")), torn + "-H left");
      assertFalse(Files.exists(input.resolve(torn + "-D")), torn + "-D left");
      assertTrue(Files.exists(corrupt.resolve(torn + "-H")), torn + "-H not kept");
      assertTrue(Files.exists(corrupt.resolve(torn + "-D")), torn + "-D not kept");
    }
    assertTrue(Files.readString(corrupt.resolve(BAD_ENVELOPE + "-H")).contains("\"local_part\":\"alicf\""));
  }

  private static void writeTorn(Path input) throws Exception {
    // The content's last block never reached the disk: shorter than the envelope says.
    byte[] whole = writeMessage(input, SHORT_CONTENT, "short");
    Files.write(input.resolve(SHORT_CONTENT + "-D"), java.util.Arrays.copyOf(whole, whole.length / 2));
    // The envelope's bytes are not those that were sealed (one byte differs).
    writeMessage(input, BAD_ENVELOPE, "bad envelope");
    Path h = input.resolve(BAD_ENVELOPE + "-H");
    Files.writeString(h, Files.readString(h).replace("\"local_part\":\"alice\"", "\"local_part\":\"alicf\""));
    // The content has its length but old bytes (a reused file whose new bytes were lost).
    byte[] content = writeMessage(input, BAD_CONTENT, "bad content");
    content[content.length - 3] ^= 1;
    Files.write(input.resolve(BAD_CONTENT + "-D"), content);
  }

  /** A message whole as committed in the earlier boot; returns its content. */
  private static byte[] writeMessage(Path input, String id, String subject) throws Exception {
    byte[] content = ("Received: from local\r\n\tid " + id + ";\r\nSubject: " + subject + "\r\n\r\nbody\r\n")
        .getBytes(StandardCharsets.US_ASCII);
    CRC32C crc = new CRC32C();
    crc.update(content);
    String json = "{\"id\":\"" + id + "\",\"sender\":\"crash@test.example\",\"recipients\":[{\"address\":"
        + "\"alice@test.example\",\"local_part\":\"alice\",\"domain\":\"test.example\",\"state\":\"pending\"}],"
        + "\"received_at\":" + System.currentTimeMillis() + ",\"host_address\":\"\",\"host_port\":0,"
        + "\"helo_name\":null,\"protocol\":\"local-esmtp\",\"interface_address\":null,\"interface_port\":0,"
        + "\"authenticated_id\":null,\"body_type\":\"7BIT\",\"size\":" + content.length + ",\"frozen\":false,"
        + "\"data_length\":" + content.length + ",\"data_crc32c\":\"" + hex(crc.getValue()) + "\","
        + "\"boot_id\":\"" + EARLIER_BOOT + "\"";
    // The seal: a CRC32C of every byte before it, as the last member.
    CRC32C seal = new CRC32C();
    seal.update(json.getBytes(StandardCharsets.UTF_8));
    Files.write(input.resolve(id + "-D"), content);
    Files.writeString(input.resolve(id + "-H"), json + ",\"crc32c\":\"" + hex(seal.getValue()) + "\"}",
        StandardCharsets.UTF_8);
    return content;
  }

  private static String hex(long crc) {
    return String.format("%08x", crc);
  }
}
