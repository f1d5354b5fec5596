package org.postern.spool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Removed messages' files are reused for new ones, on real files, and never leak old bytes. */
class FilePoolTest {
  @TempDir
  Path root;

  @Test
  void aNewMessageReusesARemovedOnesFilesAndHoldsOnlyItsOwnBytes() throws Exception {
    Spool spool = new Spool(root);
    spool.create();
    String first = MessageIds.next();
    byte[] big = "old message line\r\n".repeat(4000).getBytes(StandardCharsets.US_ASCII);
    commit(spool, first, big, "alice@example.test");
    Object dataInode = inode(spool.dataFile(first));
    Object envelopeInode = inode(spool.envelopeFile(first));
    spool.remove(first);
    assertFalse(spool.exists(first));
    assertEquals(List.of(), spool.list());

    String second = MessageIds.next();
    byte[] small = "Subject: new\r\n\r\nshort\r\n".getBytes(StandardCharsets.US_ASCII);
    commit(spool, second, small, "bob@example.test");
    Object reused = inode(spool.dataFile(second));
    assertTrue(reused.equals(dataInode) || reused.equals(envelopeInode), "the new content is in a pooled file");
    assertArrayEquals(small, Files.readAllBytes(spool.dataFile(second)), "only the new message's bytes");
    Envelope read = spool.readEnvelope(second);
    assertEquals("bob@example.test", read.recipients().get(0).address());
    assertEquals(List.of(second), spool.list());
  }

  @Test
  void withAnEmptyPoolFilesAreCreatedAndAnExistingMessageIsNotOverwritten() throws Exception {
    Spool spool = new Spool(root);
    spool.create();
    String id = MessageIds.next();
    commit(spool, id, "a\r\n".getBytes(StandardCharsets.US_ASCII), "alice@example.test");
    Object before = inode(spool.dataFile(id));
    spool.remove(MessageIds.next());
    org.junit.jupiter.api.Assertions.assertThrows(java.nio.file.FileAlreadyExistsException.class,
        () -> spool.openNewData(id).close());
    assertEquals(before, inode(spool.dataFile(id)));
    assertNotEquals(null, before);
  }

  private static void commit(Spool spool, String id, byte[] content, String rcpt) throws IOException {
    try (FileChannel ch = spool.openNewData(id)) {
      ByteBuffer buf = ByteBuffer.wrap(content);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      spool.commit(ch, new Envelope(id, "sender@example.test", List.of(Envelope.Recipient.pending(rcpt)),
          System.currentTimeMillis(), "", 0, "helo", "esmtp", null, 0, null, "7BIT", content.length, false));
    }
  }

  private static Object inode(Path file) throws IOException {
    return Files.getAttribute(file, "unix:ino");
  }
}
