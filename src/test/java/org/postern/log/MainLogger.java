package org.postern.log;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;

import java.nio.file.Path;

/** A logger writing through a {@link MainLogAppender} only, as logback.xml sets up {@code postern.main}. */
record MainLogger(LoggerContext context, Logger logger) {
  /** @param paniclog where failures go, or null for {@code paniclog} beside the file */
  static MainLogger to(Path file, Path paniclog) {
    LoggerContext context = new LoggerContext();
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern("%msg%n");
    encoder.start();
    MainLogAppender appender = new MainLogAppender();
    appender.setContext(context);
    appender.setFile(file.toString());
    if (paniclog != null) {
      appender.setPaniclog(paniclog.toString());
    }
    appender.setEncoder(encoder);
    appender.start();
    Logger logger = context.getLogger("postern.main");
    logger.setAdditive(false);
    logger.addAppender(appender);
    return new MainLogger(context, logger);
  }
}
