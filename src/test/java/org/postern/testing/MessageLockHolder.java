package org.postern.testing;

import org.postern.spool.MessageLock;
import org.postern.spool.Spool;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A second process for lock tests: {@code MessageLockHolder <spool> <id> hold|probe}. Prints
 * {@code locked} or {@code busy}; {@code hold} then keeps the lock until its stdin ends (or it is
 * killed), {@code probe} releases it at once. Exit 0 when it got the lock, 1 when not.
 */
public final class MessageLockHolder {
  private MessageLockHolder() {
  }

  public static void main(String[] args) throws Exception {
    Optional<MessageLock> lock = MessageLock.tryLock(new Spool(Path.of(args[0])), args[1]);
    System.out.println(lock.isPresent() ? "locked" : "busy");
    System.out.flush();
    if (lock.isEmpty()) {
      System.exit(1);
    }
    if (args[2].equals("hold")) {
      while (System.in.read() >= 0) {
        // Holding until the test closes our stdin or kills us.
      }
    }
    lock.get().close();
    System.exit(0);
  }
}
