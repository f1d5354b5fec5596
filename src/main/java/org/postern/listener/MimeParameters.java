package org.postern.listener;

import jakarta.mail.internet.HeaderTokenizer;
import jakarta.mail.internet.MimeUtility;
import jakarta.mail.internet.ParameterList;
import jakarta.mail.internet.ParseException;

import java.io.UnsupportedEncodingException;
import java.nio.charset.Charset;
import java.nio.charset.IllegalCharsetNameException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The value and parameters of a structured MIME header ({@code Content-Type}, RFC 2045 §5.1;
 * {@code Content-Disposition}, RFC 2183), as a mail client reads them: RFC 2231's encoded
 * ({@code name*=charset'lang'%XX}) and continued ({@code name*0=}, {@code name*1*=}) forms are
 * joined and decoded in their charset; {@link #decodeWords} decodes RFC 2047 encoded-words, as
 * Exim does for {@code $mime_filename}. Angus Mail does the tokenizing ({@link HeaderTokenizer})
 * and the RFC 2231 decoding ({@link ParameterList}, {@link MimeUtility}); this class only checks
 * what a filter must not guess at.
 *
 * <p>A filter that reads a name differently from the client that later opens the file is bypassed,
 * so every ambiguity is an {@link #anomaly()} ({@code $mime_anomaly_level}): a parameter given
 * twice, continuation segments with a gap, a leading zero or an encoded segment after a plain
 * first one, a value that breaks RFC 2045's syntax (then read up to the next {@code ;}), a
 * charset Java does not know, and more than {@link #MAX_PARAMETERS} parameters (the rest is not
 * read). With the scanner's cap on header size this bounds the work and memory per header. The
 * plain and the RFC 2231 form of one parameter are kept apart ({@link #plain}, {@link #encoded})
 * so that the caller can check that they agree.
 */
final class MimeParameters {
  /** Parameters read per header, each continuation segment counted: real headers have a handful. */
  static final int MAX_PARAMETERS = 64;
  /** An RFC 2047 encoded-word, and the whitespace after it when another word follows (§6.2 drops it). */
  private static final Pattern ENCODED_WORD = Pattern.compile(
      "=\\?[^?\\s]+\\?[BbQq]\\?[^?\\s]*\\?=(?:\\s+(?==\\?[^?\\s]+\\?[BbQq]\\?[^?\\s]*\\?=))?");
  /** {@code name*}, {@code name*N} or {@code name*N*}: RFC 2231's forms of a parameter name. */
  private static final Pattern STARRED = Pattern.compile("(.+?)\\*(?:(0|[1-9][0-9]{0,2})(\\*)?)?");

  private final String value;
  private final Map<String, String> plain = new HashMap<>();
  private final ParameterList encoded = new ParameterList();
  /** Per base name, its RFC 2231 segments in order: true for an encoded one ({@code name*N*}). */
  private final Map<String, TreeMap<Integer, Boolean>> segments = new HashMap<>();
  private boolean anomaly;

  private MimeParameters(String header) {
    HeaderTokenizer h = new HeaderTokenizer(header, HeaderTokenizer.MIME, true);
    StringBuilder v = new StringBuilder();
    try {
      HeaderTokenizer.Token tk = h.next();
      for (; tk.getType() != HeaderTokenizer.Token.EOF && tk.getType() != ';'; tk = h.next()) {
        v.append(tk.getValue());
      }
      if (tk.getType() == HeaderTokenizer.Token.EOF) {
        h = null;
      }
    } catch (ParseException e) {
      anomaly = true;
      h = null;
    }
    value = v.toString().toLowerCase(Locale.ROOT);
    for (int count = 0; h != null; count++) {
      if (count == MAX_PARAMETERS) {
        anomaly = true;
        break;
      }
      h = parameter(h);
    }
    encoded.combineSegments();
    checkSegments();
  }

  /** Parses a header's value (unfolded, without its name); never fails: what cannot be read is an anomaly. */
  static MimeParameters parse(String header) {
    return new MimeParameters(header);
  }

  /** The value before the parameters, lower-cased ({@code multipart/mixed}, {@code attachment}); may be empty. */
  String value() {
    return value;
  }

  /** True when the parameters are ambiguous or were not all read: see the class comment. */
  boolean anomaly() {
    return anomaly;
  }

  /** A parameter with RFC 2231 decoded (the encoded form wins over a plain one), or null. */
  String get(String name) {
    String e = encoded(name);
    return e != null ? e : plain(name);
  }

  /** A parameter's RFC 2231 form ({@code name*=}, {@code name*0=}...), decoded and joined, or null. */
  String encoded(String name) {
    return encoded.get(name.toLowerCase(Locale.ROOT));
  }

  /** A parameter's plain form ({@code name=}), unquoted, or null. */
  String plain(String name) {
    return plain.get(name.toLowerCase(Locale.ROOT));
  }

  /**
   * Reads one {@code attribute=value} after a {@code ;}; returns the tokenizer positioned after the
   * next {@code ;}, or null at the end. An unreadable name or quoting ends the parameters (an anomaly).
   */
  private HeaderTokenizer parameter(HeaderTokenizer h) {
    try {
      HeaderTokenizer.Token name = h.next();
      if (name.getType() == HeaderTokenizer.Token.EOF) {
        return null; // a trailing ';', common and harmless
      }
      if (name.getType() == ';') {
        return h;
      }
      if (name.getType() != HeaderTokenizer.Token.ATOM || h.next().getType() != '=') {
        anomaly = true;
        return null;
      }
      // peek() looks ahead without moving the tokenizer: the raw value stays at hand for the lenient read.
      HeaderTokenizer.Token tk = h.peek();
      HeaderTokenizer.Token after = h.peek();
      if ((tk.getType() == HeaderTokenizer.Token.ATOM || tk.getType() == HeaderTokenizer.Token.QUOTEDSTRING)
          && (after.getType() == ';' || after.getType() == HeaderTokenizer.Token.EOF)) {
        put(name.getValue(), tk.getValue());
        h.next();
        return h.next().getType() == ';' ? h : null;
      }
      // Not RFC 2045 (unquoted spaces, an unquoted encoded-word): read as clients do, to the ';'.
      anomaly = true;
      String raw = h.getRemainder();
      int semi = raw == null ? -1 : raw.indexOf(';');
      put(name.getValue(), raw == null ? "" : (semi < 0 ? raw : raw.substring(0, semi)).strip());
      return semi < 0 ? null : new HeaderTokenizer(raw.substring(semi + 1), HeaderTokenizer.MIME, true);
    } catch (ParseException e) {
      anomaly = true;
      return null;
    }
  }

  private void put(String rawName, String raw) {
    String name = rawName.toLowerCase(Locale.ROOT);
    Matcher m = STARRED.matcher(name);
    if (!m.matches()) {
      // A '*' that is not RFC 2231's (name*01, name**): some reader may still take it for a segment.
      if (plain.putIfAbsent(name, raw) != null || name.indexOf('*') >= 0) {
        anomaly = true;
      }
      return;
    }
    String base = m.group(1);
    int segment = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
    boolean isEncoded = m.group(2) == null || m.group(3) != null;
    if (segments.computeIfAbsent(base, b -> new TreeMap<>()).putIfAbsent(segment, isEncoded) != null) {
      anomaly = true;
      return;
    }
    // name* goes in as name*0*, a one-segment continuation: Angus then falls back to ISO-8859-1 for
    // a charset it does not know, where for name* it would keep the %XX text undecoded.
    encoded.set(base + "*" + segment + (isEncoded ? "*" : ""), raw);
    if (segment == 0 && isEncoded && !knownCharset(raw)) {
      anomaly = true;
    }
  }

  /**
   * True when an encoded first segment starts with {@code charset'language'} and Java knows the
   * charset (an empty one means the default): otherwise its bytes are only guessed at.
   */
  private static boolean knownCharset(String raw) {
    int quote = raw.indexOf('\'');
    if (quote < 0 || raw.indexOf('\'', quote + 1) < 0) {
      return false;
    }
    String charset = raw.substring(0, quote);
    try {
      return charset.isEmpty() || Charset.isSupported(MimeUtility.javaCharset(charset));
    } catch (IllegalCharsetNameException e) {
      return false;
    }
  }

  /** RFC 2231 §3-4: segments 0..n without a gap, and an encoded one only when segment 0 is encoded. */
  private void checkSegments() {
    for (TreeMap<Integer, Boolean> s : segments.values()) {
      if (s.lastKey() != s.size() - 1 || s.containsValue(true) && !s.get(0)) {
        anomaly = true;
      }
    }
  }

  /** How many RFC 2047 encoded-words the text holds, to bound the work of {@link #decodeWords}. */
  static int encodedWords(String text) {
    if (!text.contains("=?")) {
      return 0;
    }
    return (int) ENCODED_WORD.matcher(text).results().count();
  }

  /**
   * RFC 2047 encoded-words decoded wherever they stand, as Exim decodes {@code $mime_filename}
   * (a strict reader would skip a word inside a value; a client that decodes it would open
   * {@code evil.exe}); a malformed word stays as it is. Each word costs Angus a provider lookup
   * (about 0.1 ms): callers bound the count with {@link #encodedWords}.
   *
   * @throws UnsupportedEncodingException when a word's charset is unknown
   */
  static String decodeWords(String text) throws UnsupportedEncodingException {
    if (!text.contains("=?")) {
      return text;
    }
    Matcher m = ENCODED_WORD.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String word = m.group().stripTrailing();
      String decoded;
      try {
        decoded = MimeUtility.decodeWord(word);
      } catch (ParseException notAWord) {
        decoded = m.group();
      }
      m.appendReplacement(out, Matcher.quoteReplacement(decoded));
    }
    m.appendTail(out);
    return out.toString();
  }
}
