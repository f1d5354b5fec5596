package org.postern.auth;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.text.Normalizer;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The server side of one SASL SCRAM-SHA-256 exchange (RFC 5802, RFC 7677) without channel
 * binding: the server never advertises SCRAM-SHA-256-PLUS, so it accepts the gs2 flags {@code n}
 * and {@code y} (RFC 5802 section 6: "y" is fine when the server does not support binding) and
 * refuses {@code p=}.
 *
 * <p>Feed it the client's messages, already base64-decoded, through {@link #step(byte[])}:
 *
 * <ol>
 *   <li>client-first ({@code n,[a=authzid],n=user,r=cnonce}) gives a {@code CHALLENGE} carrying
 *       server-first ({@code r=cnonce+snonce,s=salt,i=iterations});
 *   <li>client-final ({@code c=biws,r=nonce,p=proof}) gives {@code SUCCESS} carrying server-final
 *       ({@code v=ServerSignature}), or {@code FAILURE}.
 * </ol>
 *
 * <p>How server-final reaches the client (a 334 challenge answered by an empty line, or the
 * 235's additional data) is the caller's business. An unknown user is not revealed: the exchange
 * goes on with a salt derived from the user name and fails at the proof exactly like a wrong
 * password. User names and authorization identities are checked with SASLprep (RFC 4013).
 *
 * <p>One instance per exchange; not thread-safe. The lookup runs inside {@link #step} on the
 * caller's thread. Nothing here logs, and failure reasons never contain secrets.
 */
public final class ScramSha256Server {
  /** Longest client message accepted; real ones are a few hundred bytes. */
  static final int MAX_MESSAGE = 8192;
  static final String AUTH_FAILED = "authentication failed";

  private final Function<String, Optional<ScramCredentials>> lookup;
  private final Supplier<String> nonceSource;

  private enum State { CLIENT_FIRST, CLIENT_FINAL, DONE }

  private State state = State.CLIENT_FIRST;
  private String user;
  private String authzid;
  private String gs2Header;
  private String clientFirstBare;
  private String serverFirst;
  private String nonce;
  private ScramCredentials credentials;
  private boolean knownUser;

  /**
   * The result of one step.
   *
   * @param kind what happened
   * @param serverMessage the bytes for the client (not base64-encoded): server-first for {@code
   *     CHALLENGE}, server-final {@code v=...} for {@code SUCCESS}, and an RFC 5802 {@code e=...}
   *     server-error for {@code FAILURE}, which SMTP callers usually drop in favour of a 535
   * @param user the SASLprep'd user name once known, else null
   * @param authzid the requested authorization identity, or null when none was given
   * @param reason a short text for {@code FAILURE} (never secret), else null
   */
  public record Step(Kind kind, byte[] serverMessage, String user, String authzid, String reason) {
    /** What a step produced. */
    public enum Kind {
      /** The exchange goes on: send {@code serverMessage} and feed back the answer. */
      CHALLENGE,
      /** The client proved the password; {@code serverMessage} is server-final. */
      SUCCESS,
      /** The exchange is over without authentication; see {@code reason}. */
      FAILURE
    }

    public Step {
      Objects.requireNonNull(kind, "kind");
      serverMessage = serverMessage == null ? new byte[0] : serverMessage.clone();
    }

    @Override
    public byte[] serverMessage() {
      return serverMessage.clone();
    }

    @Override
    public String toString() {
      return "Step[" + kind + ", user=" + user + ", authzid=" + authzid
          + (reason == null ? "" : ", reason=" + reason) + "]";
    }
  }

  /**
   * @param lookup finds the credentials of a (SASLprep'd) user name; empty for unknown users
   * @param nonceSource gives a fresh server nonce per exchange: printable ASCII without ',',
   *     with enough randomness (e.g. 18+ random bytes, base64)
   */
  public ScramSha256Server(Function<String, Optional<ScramCredentials>> lookup, Supplier<String> nonceSource) {
    this.lookup = Objects.requireNonNull(lookup, "lookup");
    this.nonceSource = Objects.requireNonNull(nonceSource, "nonceSource");
  }

  /** A nonce source suitable for production: 24 random bytes, base64. */
  public static Supplier<String> randomNonces() {
    return () -> Base64.getEncoder().encodeToString(PasswordSchemes.randomBytes(24));
  }

  /**
   * One step of the exchange.
   *
   * @param clientMessage the client's message, base64-decoded
   * @throws IllegalStateException when the nonce source gives an unusable nonce (a programming
   *     error, not a client's)
   */
  public Step step(byte[] clientMessage) {
    switch (state) {
      case CLIENT_FIRST:
        return finish(clientFirst(clientMessage));
      case CLIENT_FINAL:
        return finish(clientFinal(clientMessage));
      default:
        return new Step(Step.Kind.FAILURE, error("other-error"), user, authzid, "exchange already finished");
    }
  }

  private Step finish(Step step) {
    if (step.kind() != Step.Kind.CHALLENGE) {
      state = State.DONE;
      credentials = null;
    }
    return step;
  }

  private Step clientFirst(byte[] message) {
    String text = decode(message);
    if (text == null) {
      return fail("invalid-encoding", "malformed client-first message");
    }
    // gs2-header = gs2-cbind-flag "," [ authzid ] ","
    if (text.startsWith("p=")) {
      return fail("channel-binding-not-supported", "channel binding not supported");
    }
    if (!text.startsWith("n,") && !text.startsWith("y,")) {
      return fail("invalid-encoding", "malformed client-first message");
    }
    int end = text.indexOf(',', 2);
    if (end < 0) {
      return fail("invalid-encoding", "malformed client-first message");
    }
    String authzField = text.substring(2, end);
    if (!authzField.isEmpty()) {
      if (!authzField.startsWith("a=")) {
        return fail("invalid-encoding", "malformed client-first message");
      }
      String a = saslName(authzField.substring(2));
      if (a == null) {
        return fail("invalid-username-encoding", "malformed authorization identity");
      }
      authzid = a;
    }
    gs2Header = text.substring(0, end + 1);
    clientFirstBare = text.substring(end + 1);

    String[] attrs = clientFirstBare.split(",", -1);
    if (attrs.length < 2) {
      return fail("invalid-encoding", "malformed client-first message");
    }
    if (attrs[0].startsWith("m=")) {
      // RFC 5802: a mandatory extension the server does not know must fail the exchange.
      return fail("extensions-not-supported", "unsupported mandatory extension");
    }
    if (!attrs[0].startsWith("n=")) {
      return fail("invalid-encoding", "malformed client-first message");
    }
    String name = saslName(attrs[0].substring(2));
    if (name == null) {
      return fail("invalid-username-encoding", "malformed user name");
    }
    user = name;
    if (!attrs[1].startsWith("r=") || !isNonce(attrs[1].substring(2))) {
      return fail("invalid-encoding", "malformed client nonce");
    }
    for (int i = 2; i < attrs.length; i++) {
      if (!isExtension(attrs[i])) {
        return fail("invalid-encoding", "malformed client-first message");
      }
    }
    String serverNonce = nonceSource.get();
    if (serverNonce == null || !isNonce(serverNonce)) {
      throw new IllegalStateException("nonce source gave an unusable nonce");
    }
    nonce = attrs[1].substring(2) + serverNonce;

    Optional<ScramCredentials> found = lookup.apply(user);
    knownUser = found != null && found.isPresent();
    // Unknown users get a plausible salt, stable per name, and keys nobody knows, so the reply
    // and the rest of the exchange look the same as for a real user.
    credentials = knownUser
        ? found.get()
        : new ScramCredentials(PasswordSchemes.derivedSalt("unknown-user", user),
            PasswordSchemes.SCRAM_ITERATIONS,
            PasswordSchemes.randomBytes(ScramCredentials.KEY_LENGTH),
            PasswordSchemes.randomBytes(ScramCredentials.KEY_LENGTH));
    serverFirst = "r=" + nonce + ",s=" + Base64.getEncoder().encodeToString(credentials.salt())
        + ",i=" + credentials.iterations();
    state = State.CLIENT_FINAL;
    return new Step(Step.Kind.CHALLENGE, serverFirst.getBytes(StandardCharsets.UTF_8), user, authzid, null);
  }

  private Step clientFinal(byte[] message) {
    String text = decode(message);
    if (text == null) {
      return fail("invalid-encoding", "malformed client-final message");
    }
    // The proof is always the last attribute; everything before it is signed.
    int proofAt = text.lastIndexOf(",p=");
    if (proofAt < 0) {
      return fail("invalid-encoding", "malformed client-final message");
    }
    String withoutProof = text.substring(0, proofAt);
    byte[] proof = base64(text.substring(proofAt + 3));
    if (proof == null || proof.length != ScramCredentials.KEY_LENGTH) {
      return fail("invalid-encoding", "malformed client proof");
    }
    String[] attrs = withoutProof.split(",", -1);
    if (attrs.length < 2 || !attrs[0].startsWith("c=") || !attrs[1].startsWith("r=")) {
      return fail("invalid-encoding", "malformed client-final message");
    }
    byte[] binding = base64(attrs[0].substring(2));
    if (binding == null) {
      return fail("invalid-encoding", "malformed channel binding");
    }
    // Without channel binding, c= must repeat the gs2 header exactly (authzid included).
    if (!MessageDigest.isEqual(binding, gs2Header.getBytes(StandardCharsets.UTF_8))) {
      return fail("channel-bindings-dont-match", "channel binding mismatch");
    }
    if (!attrs[1].substring(2).equals(nonce)) {
      return fail("other-error", "nonce mismatch");
    }
    for (int i = 2; i < attrs.length; i++) {
      if (!isExtension(attrs[i])) {
        return fail("invalid-encoding", "malformed client-final message");
      }
    }

    byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + withoutProof)
        .getBytes(StandardCharsets.UTF_8);
    byte[] storedKey = credentials.storedKey();
    byte[] clientSignature = PasswordSchemes.hmacSha256(storedKey, authMessage);
    byte[] clientKey = new byte[proof.length];
    for (int i = 0; i < proof.length; i++) {
      clientKey[i] = (byte) (proof[i] ^ clientSignature[i]);
    }
    // Compare first, then look at knownUser, so both kinds of failure do the same work.
    boolean proofOk = MessageDigest.isEqual(PasswordSchemes.sha256(clientKey), storedKey);
    if (!(proofOk & knownUser)) {
      return fail("invalid-proof", AUTH_FAILED);
    }
    byte[] serverSignature = PasswordSchemes.hmacSha256(credentials.serverKey(), authMessage);
    String serverFinal = "v=" + Base64.getEncoder().encodeToString(serverSignature);
    return new Step(Step.Kind.SUCCESS, serverFinal.getBytes(StandardCharsets.UTF_8), user, authzid, null);
  }

  private Step fail(String serverError, String reason) {
    return new Step(Step.Kind.FAILURE, error(serverError), user, authzid, reason);
  }

  private static byte[] error(String serverError) {
    return ("e=" + serverError).getBytes(StandardCharsets.US_ASCII);
  }

  /** Strict UTF-8 with a size limit; null when the bytes are not acceptable. */
  private static String decode(byte[] message) {
    if (message == null || message.length == 0 || message.length > MAX_MESSAGE) {
      return null;
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(message))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  private static byte[] base64(String s) {
    try {
      return Base64.getDecoder().decode(s);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** printable = %x21-2B / %x2D-7E, at least one. */
  static boolean isNonce(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x21 || c > 0x7e || c == ',') {
        return false;
      }
    }
    return true;
  }

  /** attr-val = ALPHA "=" value, for extensions the server ignores. */
  private static boolean isExtension(String attr) {
    if (attr.length() < 2 || attr.charAt(1) != '=') {
      return false;
    }
    char c = attr.charAt(0);
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }

  /** Undoes =2C and =3D, then SASLprep; null when malformed or empty. */
  static String saslName(String raw) {
    StringBuilder out = new StringBuilder(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '=') {
        if (raw.startsWith("=2C", i)) {
          out.append(',');
        } else if (raw.startsWith("=3D", i)) {
          out.append('=');
        } else {
          return null;
        }
        i += 2;
      } else {
        out.append(c);
      }
    }
    return saslPrep(out.toString());
  }

  /**
   * SASLprep (RFC 4013, the stringprep profile of RFC 3454) for stored strings, except the
   * check for unassigned code points, which would tie the result to a Unicode version: map
   * non-ASCII spaces to space and drop the "mapped to nothing" characters, NFKC, refuse the
   * prohibited characters, check bidirectional text. Null when refused or empty.
   */
  static String saslPrep(String s) {
    StringBuilder mapped = new StringBuilder(s.length());
    s.codePoints().forEach(cp -> {
      if (isMappedToNothing(cp)) {
        return;
      }
      mapped.appendCodePoint(isNonAsciiSpace(cp) ? ' ' : cp);
    });
    String norm = Normalizer.normalize(mapped, Normalizer.Form.NFKC);
    if (norm.isEmpty()) {
      return null;
    }
    boolean hasRandAl = false;
    boolean hasL = false;
    int[] cps = norm.codePoints().toArray();
    for (int cp : cps) {
      if (isProhibited(cp)) {
        return null;
      }
      byte dir = Character.getDirectionality(cp);
      if (dir == Character.DIRECTIONALITY_RIGHT_TO_LEFT || dir == Character.DIRECTIONALITY_RIGHT_TO_LEFT_ARABIC) {
        hasRandAl = true;
      } else if (dir == Character.DIRECTIONALITY_LEFT_TO_RIGHT) {
        hasL = true;
      }
    }
    if (hasRandAl) {
      // RFC 3454 section 6: no LCat at all, and RandALCat first and last.
      if (hasL || !isRandAl(cps[0]) || !isRandAl(cps[cps.length - 1])) {
        return null;
      }
    }
    return norm;
  }

  private static boolean isRandAl(int cp) {
    byte dir = Character.getDirectionality(cp);
    return dir == Character.DIRECTIONALITY_RIGHT_TO_LEFT || dir == Character.DIRECTIONALITY_RIGHT_TO_LEFT_ARABIC;
  }

  /** RFC 3454 table C.1.2. */
  private static boolean isNonAsciiSpace(int cp) {
    return cp == 0x00A0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200B) || cp == 0x202F
        || cp == 0x205F || cp == 0x3000;
  }

  /** RFC 3454 table B.1. */
  private static boolean isMappedToNothing(int cp) {
    return cp == 0x00AD || cp == 0x034F || cp == 0x1806 || (cp >= 0x180B && cp <= 0x180D)
        || cp == 0x200C || cp == 0x200D || cp == 0x2060 || (cp >= 0xFE00 && cp <= 0xFE0F)
        || cp == 0xFEFF;
  }

  /** RFC 3454 tables C.1.2, C.2.1, C.2.2, C.3 to C.9 (the SASLprep prohibitions). */
  private static boolean isProhibited(int cp) {
    return isNonAsciiSpace(cp)
        || cp < 0x20 || cp == 0x7F // C.2.1
        || (cp >= 0x80 && cp <= 0x9F) || cp == 0x06DD || cp == 0x070F || cp == 0x180E // C.2.2
        || cp == 0x200C || cp == 0x200D || cp == 0x2028 || cp == 0x2029
        || (cp >= 0x2060 && cp <= 0x2063) || (cp >= 0x206A && cp <= 0x206F) || cp == 0xFEFF
        || (cp >= 0xFFF9 && cp <= 0xFFFC) || (cp >= 0x1D173 && cp <= 0x1D17A)
        || (cp >= 0xE000 && cp <= 0xF8FF) || (cp >= 0xF0000 && cp <= 0xFFFFD) // C.3
        || (cp >= 0x100000 && cp <= 0x10FFFD)
        || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE // C.4
        || (cp >= 0xD800 && cp <= 0xDFFF) // C.5
        || (cp >= 0xFFF9 && cp <= 0xFFFD) // C.6
        || (cp >= 0x2FF0 && cp <= 0x2FFB) // C.7
        || cp == 0x0340 || cp == 0x0341 || cp == 0x200E || cp == 0x200F // C.8
        || (cp >= 0x202A && cp <= 0x202E)
        || cp == 0xE0001 || (cp >= 0xE0020 && cp <= 0xE007F); // C.9
  }
}
