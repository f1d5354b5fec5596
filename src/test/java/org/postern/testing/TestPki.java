package org.postern.testing;

import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.security.auth.x500.X500Principal;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;

/**
 * A small PKI made with Bouncy Castle at test time, so no key material is checked in:
 * <ul>
 *   <li>a test CA ({@code CN=Postern Test CA,O=Postern Test});</li>
 *   <li>a server certificate for {@value #SERVER_NAME} signed by it (RSA), and an EC (P-256) variant;</li>
 *   <li>a client certificate signed by it ({@value #CLIENT_DN});</li>
 *   <li>a self-signed "rogue" client certificate with the very same subject DN, which only the
 *       signature tells apart from the real one.</li>
 * </ul>
 * Writes PEM files for the server side and builds client {@link SSLContext}s (in-memory key stores)
 * that trust the CA and optionally present a client certificate. Key generation is slow, so tests
 * share one instance ({@link #shared()}); {@link #issueServer} makes further server certificates
 * (e.g. a second one for a hot-reload test).
 */
public final class TestPki {
  public static final String SERVER_NAME = "mx.test.example";
  /** The client certificate's subject as Java prints it (RFC 2253, most significant RDN last). */
  public static final String CLIENT_DN = "CN=client.test.example,O=Postern Test";
  public static final String CA_DN = "CN=Postern Test CA,O=Postern Test";

  /**
   * How a private key is written: PKCS#8 ({@code PRIVATE KEY}); OpenSSL's traditional form, PKCS#1
   * ({@code RSA PRIVATE KEY}) or SEC1 ({@code EC PRIVATE KEY}, with the public key, as OpenSSL
   * writes it); or SEC1 without the optional public key (RFC 5915; {@code openssl ec -no_public}).
   */
  public enum KeyFormat { PKCS8, TRADITIONAL, SEC1_WITHOUT_PUBLIC_KEY }

  /** A certificate with its private key. */
  public record Credential(X509Certificate certificate, PrivateKey key) {
    /** SHA-256 of the DER certificate, as {@code AB:CD:...}. */
    public String fingerprint() {
      return TestPki.fingerprint(certificate);
    }
  }

  /** Where {@link #writeServer} put a certificate and its key. */
  public record ServerFiles(Path certificate, Path key) {
  }

  private static TestPki shared;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Credential ca;
  private final Credential server;
  private final Credential serverEc;
  private final Credential client;
  private final Credential rogue;

  private TestPki() throws GeneralSecurityException {
    KeyPair caKeys = rsa();
    X500Principal caName = new X500Principal(CA_DN);
    X509v3CertificateBuilder b = builder(caName, caName, caKeys, Duration.ofDays(365));
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(caKeys.getPublic()));
    } catch (IOException e) {
      throw new GeneralSecurityException(e);
    }
    ca = new Credential(sign(b, caKeys.getPrivate()), caKeys.getPrivate());
    server = issueServer(SERVER_NAME, false);
    serverEc = issueServer(SERVER_NAME, true);
    client = issueClient(CLIENT_DN);
    rogue = selfSigned(CLIENT_DN);
  }

  /** A fresh PKI (slow: several RSA keys). */
  public static TestPki create() throws GeneralSecurityException {
    return new TestPki();
  }

  /** The PKI shared by all tests of this JVM. */
  public static synchronized TestPki shared() throws GeneralSecurityException {
    if (shared == null) {
      shared = new TestPki();
    }
    return shared;
  }

  public Credential ca() {
    return ca;
  }

  /** RSA server certificate for {@value #SERVER_NAME}, signed by the CA. */
  public Credential server() {
    return server;
  }

  /** EC (P-256) server certificate for {@value #SERVER_NAME}, signed by the CA. */
  public Credential serverEc() {
    return serverEc;
  }

  /** Client certificate {@value #CLIENT_DN}, signed by the CA. */
  public Credential client() {
    return client;
  }

  /** Self-signed client certificate with the same subject as {@link #client()}. */
  public Credential rogue() {
    return rogue;
  }

  /** A new server certificate (new key) for {@code dnsName}, signed by the CA. */
  public Credential issueServer(String dnsName, boolean ec) throws GeneralSecurityException {
    KeyPair keys = ec ? ec() : rsa();
    X509v3CertificateBuilder b = builder(new X500Principal("CN=" + dnsName + ",O=Postern Test"),
        ca.certificate().getSubjectX500Principal(), keys, Duration.ofDays(30));
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(ec ? KeyUsage.digitalSignature
          : KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      b.addExtension(Extension.subjectAlternativeName, false,
          new GeneralNames(new GeneralName(GeneralName.dNSName, dnsName)));
      b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca.certificate()));
    } catch (IOException e) {
      throw new GeneralSecurityException(e);
    }
    return new Credential(sign(b, ca.key()), keys.getPrivate());
  }

  /** A new client certificate (RSA) with subject {@code dn} (RFC 2253 string), signed by the CA. */
  public Credential issueClient(String dn) throws GeneralSecurityException {
    KeyPair keys = rsa();
    X509v3CertificateBuilder b = builder(new X500Principal(dn), ca.certificate().getSubjectX500Principal(), keys,
        Duration.ofDays(30));
    try {
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
      b.addExtension(Extension.authorityKeyIdentifier, false,
          new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(ca.certificate()));
    } catch (IOException e) {
      throw new GeneralSecurityException(e);
    }
    return new Credential(sign(b, ca.key()), keys.getPrivate());
  }

  /** A self-signed end-entity certificate (RSA) usable as a client certificate. */
  public static Credential selfSigned(String dn) throws GeneralSecurityException {
    KeyPair keys = rsa();
    X500Principal name = new X500Principal(dn);
    X509v3CertificateBuilder b = builder(name, name, keys, Duration.ofDays(30));
    try {
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.extendedKeyUsage, false,
          new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth, KeyPurposeId.id_kp_serverAuth}));
    } catch (IOException e) {
      throw new GeneralSecurityException(e);
    }
    return new Credential(sign(b, keys.getPrivate()), keys.getPrivate());
  }

  // ---------------------------------------------------------------------------------------------
  // PEM files

  /** Writes the CA certificate as {@code dir/ca.pem}. */
  public Path writeCa(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve("ca.pem");
    Files.writeString(file, pem(ca.certificate()), StandardCharsets.US_ASCII);
    return file;
  }

  /** Writes {@code dir/<name>.crt} (the leaf) and {@code dir/<name>.key} (PKCS#8 for RSA, SEC1 for EC). */
  public ServerFiles writeServer(Path dir, String name, Credential credential) throws IOException {
    return writeServer(dir, name, credential,
        credential.key().getAlgorithm().equals("EC") ? KeyFormat.TRADITIONAL : KeyFormat.PKCS8);
  }

  public ServerFiles writeServer(Path dir, String name, Credential credential, KeyFormat format) throws IOException {
    Files.createDirectories(dir);
    Path cert = dir.resolve(name + ".crt");
    Path key = dir.resolve(name + ".key");
    Files.writeString(cert, pem(credential.certificate()), StandardCharsets.US_ASCII);
    Files.writeString(key, keyPem(credential, format), StandardCharsets.US_ASCII);
    return new ServerFiles(cert, key);
  }

  /** One PEM block for a certificate (or anything Bouncy Castle's PEM writer knows). */
  public static String pem(Object object) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(object);
    }
    return out.toString();
  }

  /** The private key of a credential as PEM. */
  public static String keyPem(Credential credential, KeyFormat format) throws IOException {
    PrivateKey key = credential.key();
    boolean ec = key.getAlgorithm().equals("EC");
    if (format == KeyFormat.TRADITIONAL && !ec) {
      return pem(key);
    }
    if (format != KeyFormat.PKCS8) {
      if (!ec) {
        throw new IllegalArgumentException(format + " is for EC keys");
      }
      PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
      DERBitString publicKey = format == KeyFormat.SEC1_WITHOUT_PUBLIC_KEY ? null
          : new DERBitString(SubjectPublicKeyInfo.getInstance(credential.certificate().getPublicKey().getEncoded())
              .getPublicKeyData().getOctets());
      org.bouncycastle.asn1.sec.ECPrivateKey sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(256,
          ((java.security.interfaces.ECPrivateKey) key).getS(), publicKey,
          info.getPrivateKeyAlgorithm().getParameters());
      StringWriter out = new StringWriter();
      try (PemWriter w = new PemWriter(out)) {
        w.writeObject(new PemObject("EC PRIVATE KEY", sec1.getEncoded()));
      }
      return out.toString();
    }
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(new JcaPKCS8Generator(key, null));
    }
    return out.toString();
  }

  // ---------------------------------------------------------------------------------------------
  // Client SSL contexts

  /** Trusts the test CA; presents no client certificate. */
  public SSLContext clientContext() throws GeneralSecurityException {
    return context(null, ca.certificate());
  }

  /**
   * Trusts the test CA and presents {@code clientCertificate} whenever the server asks for one,
   * even when its issuer is not among the server's accepted issuers (a stock key manager would
   * then silently send nothing, which would hide the rogue-certificate case).
   */
  public SSLContext clientContext(Credential clientCertificate) throws GeneralSecurityException {
    return context(clientCertificate, ca.certificate());
  }

  /** A context that trusts exactly these certificates (e.g. a generated self-signed server certificate). */
  public static SSLContext trusting(X509Certificate... anchors) throws GeneralSecurityException {
    return context(null, anchors);
  }

  private static SSLContext context(Credential clientCertificate, X509Certificate... anchors)
      throws GeneralSecurityException {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    try {
      trust.load(null, null);
    } catch (IOException e) {
      throw new GeneralSecurityException(e);
    }
    for (int i = 0; i < anchors.length; i++) {
      trust.setCertificateEntry("anchor" + i, anchors[i]);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    KeyManager[] keyManagers = clientCertificate == null ? null
        : new KeyManager[] {new FixedKeyManager(clientCertificate)};
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keyManagers, tmf.getTrustManagers(), new SecureRandom());
    return context;
  }

  /** Always offers its one certificate as the client certificate. */
  private static final class FixedKeyManager extends X509ExtendedKeyManager {
    private static final String ALIAS = "client";
    private final Credential credential;

    FixedKeyManager(Credential credential) {
      this.credential = credential;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return new String[] {ALIAS};
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return ALIAS;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
      return ALIAS;
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return ALIAS.equals(alias) ? new X509Certificate[] {credential.certificate()} : null;
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return ALIAS.equals(alias) ? credential.key() : null;
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** SHA-256 of a certificate's DER encoding, as {@code AB:CD:...} (Postern's log format). */
  public static String fingerprint(X509Certificate certificate) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
      return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Reads every certificate of a PEM file. */
  public static List<X509Certificate> readCertificates(Path pem) throws IOException, GeneralSecurityException {
    List<X509Certificate> out = new ArrayList<>();
    try (var in = Files.newInputStream(pem)) {
      for (var c : java.security.cert.CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        out.add((X509Certificate) c);
      }
    }
    return out;
  }

  private static KeyPair rsa() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048, RANDOM);
    return g.generateKeyPair();
  }

  private static KeyPair ec() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    return g.generateKeyPair();
  }

  private static X509v3CertificateBuilder builder(X500Principal subject, X500Principal issuer, KeyPair keys,
                                                  Duration validity) {
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(issuer, new BigInteger(64, RANDOM).add(BigInteger.ONE),
        Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(validity)), subject, keys.getPublic());
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer)
      throws GeneralSecurityException {
    String algorithm = signer.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
    try {
      return new JcaX509CertificateConverter().getCertificate(
          builder.build(new JcaContentSignerBuilder(algorithm).build(signer)));
    } catch (org.bouncycastle.operator.OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }
}
