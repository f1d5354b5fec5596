package org.postern.queue;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Counts the {@code Received:} header fields of a spooled message, for Exim's
 * {@code received_headers_max} mail-loop check. Reads the header section only. Blocking.
 */
final class ReceivedHeaders {
  /** Exim's reason for a message that has travelled too far. */
  static final String LOOP = "Too many Received: headers - suspected mail loop";

  private ReceivedHeaders() {
  }

  static int count(Path dataFile) throws IOException {
    int n = 0;
    try (BufferedReader in = Files.newBufferedReader(dataFile, StandardCharsets.ISO_8859_1)) {
      String line;
      while ((line = in.readLine()) != null && !line.isEmpty()) {
        if (line.length() >= 9 && line.substring(0, 9).toLowerCase(Locale.ROOT).equals("received:")) {
          n++;
        }
      }
    }
    return n;
  }
}
