package org.postern.delivery.smtp;

import org.postern.smtp.SmtpReply;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The extensions a server listed in its EHLO reply (keyword to parameters); empty after HELO.
 */
record EhloCapabilities(Map<String, List<String>> extensions) {
  static final EhloCapabilities NONE = new EhloCapabilities(Map.of());

  static EhloCapabilities of(SmtpReply ehlo) {
    Map<String, List<String>> out = new HashMap<>();
    List<String> lines = ehlo.lines();
    // The first line is the greeting ("mx.example Hello ..."), not an extension.
    for (int i = 1; i < lines.size(); i++) {
      String[] words = lines.get(i).strip().split("\\s+");
      if (words.length > 0 && !words[0].isEmpty()) {
        out.put(words[0].toUpperCase(Locale.ROOT), List.of(words).subList(1, words.length).stream()
            .map(w -> w.toUpperCase(Locale.ROOT)).toList());
      }
    }
    return new EhloCapabilities(Map.copyOf(out));
  }

  boolean has(String keyword) {
    return extensions.containsKey(keyword);
  }

  Set<String> authMechanisms() {
    return Set.copyOf(extensions.getOrDefault("AUTH", List.of()));
  }
}
