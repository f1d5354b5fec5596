package org.postern.testing;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * The main log as events: every line the JVM writes through the {@code postern.main} logger while
 * this is open, and a wait for a line that completes when the line is written (no polling of the
 * asynchronously written file, no sleep).
 */
public final class MainLogLines implements AutoCloseable {
  private final List<String> lines = new ArrayList<>();
  private final List<Waiter> waiters = new ArrayList<>();
  private final Appender appender = new Appender();

  private record Waiter(Predicate<String> match, CompletableFuture<String> found) {
  }

  private MainLogLines() {
    appender.setContext((ch.qos.logback.classic.LoggerContext) LoggerFactory.getILoggerFactory());
    appender.setName("main-log-lines-" + System.identityHashCode(this));
    appender.start();
    mainLogger().addAppender(appender);
  }

  /** Starts recording; lines written before are not seen. */
  public static MainLogLines record() {
    return new MainLogLines();
  }

  private static Logger mainLogger() {
    return (Logger) LoggerFactory.getLogger("postern.main");
  }

  /** The first line recorded so far, or written within {@code within}, that contains every one of {@code texts}. */
  public String await(Duration within, String... texts) throws Exception {
    return await(within, line -> List.of(texts).stream().allMatch(line::contains), String.join(" ... ", texts));
  }

  /** The first line that matches, waiting up to {@code within} for it to be written. */
  public String await(Duration within, Predicate<String> match, String description) throws Exception {
    CompletableFuture<String> found = new CompletableFuture<>();
    synchronized (this) {
      for (String line : lines) {
        if (match.test(line)) {
          return line;
        }
      }
      waiters.add(new Waiter(match, found));
    }
    try {
      return found.get(within.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("no main-log line with " + description + " within " + within + "; recorded: " + lines());
    }
  }

  /** Every line recorded so far. */
  public synchronized List<String> lines() {
    return List.copyOf(lines);
  }

  @Override
  public void close() {
    mainLogger().detachAppender(appender);
    appender.stop();
  }

  private final class Appender extends AppenderBase<ILoggingEvent> {
    @Override
    protected void append(ILoggingEvent event) {
      String line = event.getFormattedMessage();
      synchronized (MainLogLines.this) {
        lines.add(line);
        waiters.removeIf(w -> w.match().test(line) && w.found().complete(line));
      }
    }
  }
}
