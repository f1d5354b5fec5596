package org.postern.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.postern.auth.ScramSha256Server.Step;
import org.postern.auth.ScramSha256Server.Step.Kind;

class ScramServerTest {
  // RFC 7677 section 3.
  private static final String CNONCE = "rOprNGfwEbeRWgbNEkqO";
  private static final String SNONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  private static final String RFC_SALT = "W22ZaJ0SNY7soEsUEjb6gQ==";
  private static final String RFC_PROOF = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  private static final String RFC_SIGNATURE = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
  private static final String RFC_STORED = "4096," + RFC_SALT
      + ",WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";
  private static final Pattern SERVER_FIRST = Pattern.compile("r=([^,]+),s=([^,]+),i=([0-9]+)");

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String text(Step step) {
    return new String(step.serverMessage(), StandardCharsets.UTF_8);
  }

  /** A lookup over a map that records the names it was asked for. */
  private static final class Users implements Function<String, Optional<ScramCredentials>> {
    final Map<String, ScramCredentials> map;
    final List<String> asked = new ArrayList<>();

    Users(Map<String, ScramCredentials> map) {
      this.map = map;
    }

    @Override
    public Optional<ScramCredentials> apply(String user) {
      asked.add(user);
      return Optional.ofNullable(map.get(user));
    }
  }

  private static Users rfcUser() {
    return new Users(Map.of("user",
        PasswordSchemes.scramSha256("user", "SCRAM-SHA-256", RFC_STORED).orElseThrow()));
  }

  private static Supplier<String> fixedNonce() {
    return () -> SNONCE;
  }

  // ---- a client written against the RFC with the JDK only, independent of the server code ----

  private static byte[] hmac(byte[] key, byte[] data) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key, "HmacSHA256"));
    return mac.doFinal(data);
  }

  /** Client-final for the given server-first; returns {finalMessage, expectedServerFinal}. */
  private static String[] clientFinal(String clientFirstBare, String serverFirst, String gs2Header,
      String password) throws Exception {
    return clientFinal(clientFirstBare, serverFirst, gs2Header, password, null);
  }

  /** As above; a non-null {@code nonce} replaces the server's in r= (and is signed). */
  private static String[] clientFinal(String clientFirstBare, String serverFirst, String gs2Header,
      String password, String nonce) throws Exception {
    Matcher m = SERVER_FIRST.matcher(serverFirst);
    assertTrue(m.matches(), serverFirst);
    byte[] salt = Base64.getDecoder().decode(m.group(2));
    int iterations = Integer.parseInt(m.group(3));
    byte[] salted = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
        .generateSecret(new PBEKeySpec(password.toCharArray(), salt, iterations, 256)).getEncoded();
    byte[] clientKey = hmac(salted, utf8("Client Key"));
    byte[] storedKey = java.security.MessageDigest.getInstance("SHA-256").digest(clientKey);
    String withoutProof = "c=" + Base64.getEncoder().encodeToString(utf8(gs2Header)) + ",r="
        + (nonce == null ? m.group(1) : nonce);
    byte[] authMessage = utf8(clientFirstBare + "," + serverFirst + "," + withoutProof);
    byte[] signature = hmac(storedKey, authMessage);
    byte[] proof = new byte[clientKey.length];
    for (int i = 0; i < proof.length; i++) {
      proof[i] = (byte) (clientKey[i] ^ signature[i]);
    }
    byte[] serverSignature = hmac(hmac(salted, utf8("Server Key")), authMessage);
    return new String[] {
      withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof),
      "v=" + Base64.getEncoder().encodeToString(serverSignature),
    };
  }

  /** A whole exchange; returns the last step. */
  private static Step exchange(ScramSha256Server server, String gs2Header, String bare, String password)
      throws Exception {
    Step first = server.step(utf8(gs2Header + bare));
    assertEquals(Kind.CHALLENGE, first.kind(), String.valueOf(first));
    String[] fin = clientFinal(bare, text(first), gs2Header, password);
    Step last = server.step(utf8(fin[0]));
    if (last.kind() == Kind.SUCCESS) {
      assertEquals(fin[1], text(last), "server signature");
    }
    return last;
  }

  // ---- tests ----

  @Test
  void rfc7677TestVector() {
    Users users = rfcUser();
    ScramSha256Server server = new ScramSha256Server(users, fixedNonce());
    Step first = server.step(utf8("n,,n=user,r=" + CNONCE));
    assertEquals(Kind.CHALLENGE, first.kind());
    assertEquals("r=" + CNONCE + SNONCE + ",s=" + RFC_SALT + ",i=4096", text(first));
    assertEquals("user", first.user());
    assertEquals(List.of("user"), users.asked);

    Step fin = server.step(utf8("c=biws,r=" + CNONCE + SNONCE + ",p=" + RFC_PROOF));
    assertEquals(Kind.SUCCESS, fin.kind(), String.valueOf(fin));
    assertEquals("v=" + RFC_SIGNATURE, text(fin));
    assertEquals("user", fin.user());
    assertNull(fin.authzid());
    assertNull(fin.reason());
  }

  @Test
  void rfc7677WithCredentialsComputedFromThePassword() throws Exception {
    // The same vector, but with credentials made from "pencil" rather than copied.
    ScramCredentials c = PasswordSchemes.scramFromPassword(utf8("pencil"),
        Base64.getDecoder().decode(RFC_SALT), 4096);
    ScramSha256Server server = new ScramSha256Server(u -> Optional.of(c), fixedNonce());
    server.step(utf8("n,,n=user,r=" + CNONCE));
    Step fin = server.step(utf8("c=biws,r=" + CNONCE + SNONCE + ",p=" + RFC_PROOF));
    assertEquals(Kind.SUCCESS, fin.kind());
    assertEquals("v=" + RFC_SIGNATURE, text(fin));
  }

  @Test
  void wrongPasswordFails() throws Exception {
    Step last = exchange(new ScramSha256Server(rfcUser(), fixedNonce()), "n,,", "n=user,r=" + CNONCE, "pencil2");
    assertEquals(Kind.FAILURE, last.kind());
    assertEquals("authentication failed", last.reason());
    assertEquals("e=invalid-proof", text(last));
    assertEquals("user", last.user());
  }

  @Test
  void rightPasswordThroughTheIndependentClientSucceeds() throws Exception {
    // Guards the wrong-password test: the same client code does succeed with the right one.
    Step last = exchange(new ScramSha256Server(rfcUser(), ScramSha256Server.randomNonces()),
        "n,,", "n=user,r=" + CNONCE, "pencil");
    assertEquals(Kind.SUCCESS, last.kind());
  }

  @Test
  void unknownUserIsIndistinguishableFromWrongPassword() throws Exception {
    Users users = rfcUser();
    ScramSha256Server server = new ScramSha256Server(users, fixedNonce());
    Step first = server.step(utf8("n,,n=mallory,r=" + CNONCE));
    assertEquals(Kind.CHALLENGE, first.kind());
    assertEquals(List.of("mallory"), users.asked);
    Matcher m = SERVER_FIRST.matcher(text(first));
    assertTrue(m.matches(), text(first));
    assertEquals(CNONCE + SNONCE, m.group(1));
    assertEquals(16, Base64.getDecoder().decode(m.group(2)).length);
    assertEquals("4096", m.group(3));

    // The fake salt is stable for a name, so probing twice does not give it away ...
    Step again = new ScramSha256Server(users, fixedNonce()).step(utf8("n,,n=mallory,r=" + CNONCE));
    assertEquals(text(first), text(again));
    // ... and differs between names, like real salts.
    Step other = new ScramSha256Server(users, fixedNonce()).step(utf8("n,,n=trudy,r=" + CNONCE));
    Matcher o = SERVER_FIRST.matcher(text(other));
    assertTrue(o.matches(), text(other));
    assertFalse(m.group(2).equals(o.group(2)));

    String[] fin = clientFinal("n=mallory,r=" + CNONCE, text(first), "n,,", "pencil");
    Step unknown = server.step(utf8(fin[0]));
    Step wrong = exchange(new ScramSha256Server(rfcUser(), fixedNonce()), "n,,", "n=user,r=" + CNONCE, "nope");
    assertEquals(Kind.FAILURE, unknown.kind());
    assertEquals(wrong.kind(), unknown.kind());
    assertEquals(wrong.reason(), unknown.reason());
    assertArrayEquals(wrong.serverMessage(), unknown.serverMessage());
  }

  @Test
  void roundTripWithCreatedSecret() throws Exception {
    String stored = PasswordSchemes.create("SCRAM-SHA-256", "correct horse");
    String secret = stored.substring("{SCRAM-SHA-256}".length());
    Users users = new Users(Map.of("alice", PasswordSchemes.scramSha256("alice", "SCRAM-SHA-256", secret).orElseThrow()));
    Step ok = exchange(new ScramSha256Server(users, ScramSha256Server.randomNonces()), "n,,", "n=alice,r=abc", "correct horse");
    assertEquals(Kind.SUCCESS, ok.kind());
    assertEquals("alice", ok.user());
    Step bad = exchange(new ScramSha256Server(users, ScramSha256Server.randomNonces()), "n,,", "n=alice,r=abc", "correct horsE");
    assertEquals(Kind.FAILURE, bad.kind());
  }

  @Test
  void roundTripWithCredentialsDerivedFromPlain() throws Exception {
    Function<String, Optional<ScramCredentials>> lookup = u -> PasswordSchemes.scramSha256(u, "PLAIN", "s3cret");
    Step ok = exchange(new ScramSha256Server(lookup, ScramSha256Server.randomNonces()), "n,,", "n=bob,r=xyz", "s3cret");
    assertEquals(Kind.SUCCESS, ok.kind());
    Step bad = exchange(new ScramSha256Server(lookup, ScramSha256Server.randomNonces()), "n,,", "n=bob,r=xyz", "s3cre");
    assertEquals(Kind.FAILURE, bad.kind());
  }

  @Test
  void iterationCountComesFromTheCredentials() throws Exception {
    ScramCredentials c = PasswordSchemes.scramFromPassword(utf8("pw"), new byte[] {1, 2, 3, 4}, 5000);
    ScramSha256Server server = new ScramSha256Server(u -> Optional.of(c), fixedNonce());
    Step first = server.step(utf8("n,,n=u,r=abc"));
    assertEquals("r=abc" + SNONCE + ",s=AQIDBA==,i=5000", text(first));
    String[] fin = clientFinal("n=u,r=abc", text(first), "n,,", "pw");
    assertEquals(Kind.SUCCESS, server.step(utf8(fin[0])).kind());
  }

  @Test
  void escapedNamesAndAuthzid() throws Exception {
    ScramCredentials c = PasswordSchemes.scramFromPassword(utf8("pw"), new byte[] {1}, 4096);
    Users users = new Users(Map.of("us=er,x", c));
    Step ok = exchange(new ScramSha256Server(users, fixedNonce()), "n,a=adm=2Cin=3D,", "n=us=3Der=2Cx,r=abc", "pw");
    assertEquals(Kind.SUCCESS, ok.kind());
    assertEquals("us=er,x", ok.user());
    assertEquals("adm,in=", ok.authzid());
    assertEquals(List.of("us=er,x"), users.asked);
  }

  @Test
  void yFlagAcceptedBecauseWeDoNotAdvertisePlus() throws Exception {
    Step ok = exchange(new ScramSha256Server(rfcUser(), fixedNonce()), "y,,", "n=user,r=" + CNONCE, "pencil");
    assertEquals(Kind.SUCCESS, ok.kind());
  }

  @Test
  void channelBindingRequestRefused() {
    Users users = rfcUser();
    Step s = new ScramSha256Server(users, fixedNonce()).step(utf8("p=tls-unique,,n=user,r=" + CNONCE));
    assertEquals(Kind.FAILURE, s.kind());
    assertEquals("channel binding not supported", s.reason());
    assertEquals("e=channel-binding-not-supported", text(s));
    assertTrue(users.asked.isEmpty());
  }

  @Test
  void malformedClientFirstFails() {
    byte[][] bad = {
      utf8(""),
      utf8("x,,n=user,r=abc"),
      utf8("n"),
      utf8("n,,"),
      utf8("n,n=user,r=abc"),
      utf8("n,b=x,n=user,r=abc"),
      utf8("n,,r=abc,n=user"),
      utf8("n,,n=user"),
      utf8("n,,n=user,r="),
      utf8("n,,n=user,r=a b"),
      utf8("n,,n=user,r=abc,1=x"),
      utf8("n,,n=,r=abc"),
      utf8("n,,n=us=2Xer,r=abc"),
      utf8("n,,n=user=,r=abc"),
      utf8("n,,n=us\u0001er,r=abc"),
      utf8("n,,n=us\u007fer,r=abc"),
      utf8("n,,n=us\u200Eer,r=abc"),
      utf8("n,a=ad\u0000min,n=user,r=abc"),
      utf8("n,,m=ext,n=user,r=abc"),
      utf8("n,,n=user,r=abc\u00e9"),
      new byte[] {'n', ',', ',', 'n', '=', (byte) 0xC3, (byte) 0x28, ',', 'r', '=', 'a'}, // bad UTF-8
      utf8("n,,n=user,r=" + "a".repeat(ScramSha256Server.MAX_MESSAGE)),
      null,
    };
    for (byte[] message : bad) {
      Users users = rfcUser();
      Step s = new ScramSha256Server(users, fixedNonce()).step(message);
      String label = message == null ? "null" : new String(message, StandardCharsets.UTF_8);
      assertEquals(Kind.FAILURE, s.kind(), label);
      assertTrue(s.reason() != null && !s.reason().isEmpty(), label);
      assertTrue(users.asked.isEmpty(), label);
    }
  }

  @Test
  void mandatoryExtensionRefused() {
    Step s = new ScramSha256Server(rfcUser(), fixedNonce()).step(utf8("n,,m=foo,n=user,r=" + CNONCE));
    assertEquals(Kind.FAILURE, s.kind());
    assertEquals("unsupported mandatory extension", s.reason());
    assertEquals("e=extensions-not-supported", text(s));
  }

  @Test
  void malformedClientFinalFails() {
    String nonce = CNONCE + SNONCE;
    String[] bad = {
      "c=biws,r=" + nonce, // no proof
      "c=biws,r=" + nonce + ",p=", // empty proof
      "c=biws,r=" + nonce + ",p=!!!!", // not base64
      "c=biws,r=" + nonce + ",p=AAAA", // short proof
      "c=biws,r=" + nonce + ",p=" + RFC_PROOF + ",x=1", // attribute after the proof
      "c=eSws,r=" + nonce + ",p=" + RFC_PROOF, // header says y,, but client-first said n,,
      "c=!!,r=" + nonce + ",p=" + RFC_PROOF,
      "c=biws,r=" + CNONCE + ",p=" + RFC_PROOF, // server part of the nonce missing
      "c=biws,r=" + nonce + "x,p=" + RFC_PROOF,
      "r=" + nonce + ",c=biws,p=" + RFC_PROOF, // order
      "c=biws,p=" + RFC_PROOF,
      "c=biws,r=" + nonce + ",1=x,p=" + RFC_PROOF,
      "",
    };
    for (String message : bad) {
      ScramSha256Server server = new ScramSha256Server(rfcUser(), fixedNonce());
      assertEquals(Kind.CHALLENGE, server.step(utf8("n,,n=user,r=" + CNONCE)).kind());
      Step s = server.step(utf8(message));
      assertEquals(Kind.FAILURE, s.kind(), message);
      assertTrue(s.reason() != null && !s.reason().isEmpty(), message);
      // And the exchange is over: the correct message does not rescue it.
      Step after = server.step(utf8("c=biws,r=" + nonce + ",p=" + RFC_PROOF));
      assertEquals(Kind.FAILURE, after.kind(), message);
    }
  }

  @Test
  void correctlySignedButMismatchedChannelBindingFails() throws Exception {
    // The client signs what it sends, so only the server's own comparison with the gs2 header
    // of client-first can catch this.
    for (String[] headers : new String[][] {{"n,,", "y,,"}, {"y,,", "n,,"}, {"n,a=user,", "n,,"}}) {
      ScramSha256Server server = new ScramSha256Server(rfcUser(), fixedNonce());
      Step first = server.step(utf8(headers[0] + "n=user,r=" + CNONCE));
      String[] fin = clientFinal("n=user,r=" + CNONCE, text(first), headers[1], "pencil");
      Step s = server.step(utf8(fin[0]));
      assertEquals(Kind.FAILURE, s.kind(), headers[0] + " vs " + headers[1]);
      assertEquals("channel binding mismatch", s.reason());
    }
  }

  @Test
  void correctlySignedButWrongNonceFails() throws Exception {
    for (String nonce : new String[] {CNONCE, CNONCE + SNONCE + "x", "other" + SNONCE}) {
      ScramSha256Server server = new ScramSha256Server(rfcUser(), fixedNonce());
      Step first = server.step(utf8("n,,n=user,r=" + CNONCE));
      String[] fin = clientFinal("n=user,r=" + CNONCE, text(first), "n,,", "pencil", nonce);
      Step s = server.step(utf8(fin[0]));
      assertEquals(Kind.FAILURE, s.kind(), nonce);
      assertEquals("nonce mismatch", s.reason());
    }
  }

  @Test
  void extensionsBeforeTheProofAreSignedAndIgnored() throws Exception {
    ScramSha256Server server = new ScramSha256Server(rfcUser(), fixedNonce());
    Step first = server.step(utf8("n,,n=user,r=" + CNONCE + ",x=ignored"));
    assertEquals(Kind.CHALLENGE, first.kind());
    String[] fin = clientFinal("n=user,r=" + CNONCE + ",x=ignored", text(first), "n,,", "pencil");
    assertEquals(Kind.SUCCESS, server.step(utf8(fin[0])).kind());
  }

  @Test
  void stepAfterCompletionFails() throws Exception {
    ScramSha256Server server = new ScramSha256Server(rfcUser(), fixedNonce());
    server.step(utf8("n,,n=user,r=" + CNONCE));
    String fin = "c=biws,r=" + CNONCE + SNONCE + ",p=" + RFC_PROOF;
    assertEquals(Kind.SUCCESS, server.step(utf8(fin)).kind());
    Step again = server.step(utf8(fin));
    assertEquals(Kind.FAILURE, again.kind());
    assertEquals(Kind.FAILURE, server.step(new byte[0]).kind());
    assertEquals(Kind.FAILURE, server.step(utf8("n,,n=user,r=" + CNONCE)).kind());
  }

  @Test
  void saslPrep() {
    // RFC 4013 section 3 examples.
    assertEquals("IX", ScramSha256Server.saslPrep("I\u00ADX"));
    assertEquals("user", ScramSha256Server.saslPrep("user"));
    assertEquals("USER", ScramSha256Server.saslPrep("USER"));
    assertEquals("a", ScramSha256Server.saslPrep("\u00AA"));
    assertEquals("IX", ScramSha256Server.saslPrep("\u2168"));
    assertNull(ScramSha256Server.saslPrep("\u0007"));
    assertNull(ScramSha256Server.saslPrep("\u0627\u0031"));
    // Non-ASCII space maps to space; private use and empty are refused.
    assertEquals("a b", ScramSha256Server.saslPrep("a\u00A0b"));
    assertNull(ScramSha256Server.saslPrep("a\uE000"));
    assertNull(ScramSha256Server.saslPrep("\u00AD"));
    assertEquals("\u0627\u0628", ScramSha256Server.saslPrep("\u0627\u0628"));
  }

  @Test
  void badNonceSourceIsAProgrammingError() {
    for (String nonce : new String[] {"", "a,b", "sp ace", null}) {
      ScramSha256Server server = new ScramSha256Server(rfcUser(), () -> nonce);
      assertThrows(IllegalStateException.class, () -> server.step(utf8("n,,n=user,r=abc")), String.valueOf(nonce));
    }
  }

  @Test
  void stepToStringHidesMessages() {
    ScramSha256Server server = new ScramSha256Server(rfcUser(), fixedNonce());
    server.step(utf8("n,,n=user,r=" + CNONCE));
    Step fin = server.step(utf8("c=biws,r=" + CNONCE + SNONCE + ",p=" + RFC_PROOF));
    assertEquals(Kind.SUCCESS, fin.kind());
    assertFalse(fin.toString().contains(RFC_SIGNATURE.substring(0, 10)), fin.toString());
    assertTrue(fin.toString().contains("user"));
  }
}
