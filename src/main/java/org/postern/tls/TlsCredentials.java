package org.postern.tls;

import io.netty.handler.ssl.OpenSslCachingX509KeyManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import javax.net.ssl.KeyManagerFactory;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;

/**
 * The server's certificate chain and private key, read from PEM files ({@code tls_certificate},
 * {@code tls_privatekey}: RSA or EC, PKCS#1, SEC1 or PKCS#8) or, when none is configured, a
 * self-signed certificate generated with Bouncy Castle and reused afterwards. The key is
 * checked against the certificate, so a mismatched pair is refused at load time, not at the
 * first handshake. Blocking: load on a worker.
 *
 * <p>The self-signed certificate is valid {@link #GENERATED_VALIDITY} (90 days, as public CAs issue
 * for automated renewal; it was 10 years) and renewed once fewer than {@link #RENEW_BEFORE} remain,
 * at start and while running ({@link TlsVerticle}). Nobody can check a self-signed certificate
 * against a CA, so its lifetime is what bounds a certificate carrying a stale name or an
 * unnoticed copy; renewal keeps the key, so clients that pin it (DANE {@code 3 1 1}, TOFU on the
 * public key) keep working while the certificate's fingerprint changes.
 *
 * @param certificatePem the chain, normalized PEM
 * @param keyPem         the key as PKCS#8 PEM (what every TLS engine reads)
 * @param generated      true when Postern made (or renewed) the certificate in this load
 */
public record TlsCredentials(String certificatePem, String keyPem, List<X509Certificate> chain, String fingerprint,
                             boolean generated) {

  static final String GENERATED_CERT = "postern.crt";
  static final String GENERATED_KEY = "postern.key";
  /** How long a generated certificate is valid. */
  public static final Duration GENERATED_VALIDITY = Duration.ofDays(90);
  /** A generated certificate is renewed when it has less than this left. */
  public static final Duration RENEW_BEFORE = Duration.ofDays(30);

  /**
   * Loads the configured pair, or the generated one in {@code directory}: created on first use,
   * renewed (same key) when due at {@code now}.
   */
  public static TlsCredentials load(Path certificate, Path privateKey, Path directory, String hostname, Instant now)
      throws IOException, GeneralSecurityException {
    if (certificate == null) {
      Path cert = directory.resolve(GENERATED_CERT);
      Path key = directory.resolve(GENERATED_KEY);
      if (!Files.exists(cert) || !Files.exists(key)) {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        generate(cert, key, hostname, generator.generateKeyPair(), now);
        return made(read(cert, key, now));
      }
      TlsCredentials existing = read(cert, key, null);
      if (existing.renewalDue(now)) {
        generate(cert, null, hostname, new KeyPair(existing.chain.get(0).getPublicKey(), keyOf(existing)), now);
        return made(read(cert, key, now));
      }
      return existing;
    }
    return read(certificate, privateKey == null ? certificate : privateKey, now);
  }

  /** True when fewer than {@link #RENEW_BEFORE} of the leaf's validity remain at {@code now}. */
  public boolean renewalDue(Instant now) {
    return !now.plus(RENEW_BEFORE).isBefore(chain.get(0).getNotAfter().toInstant());
  }

  private static TlsCredentials made(TlsCredentials c) {
    return new TlsCredentials(c.certificatePem, c.keyPem, c.chain, c.fingerprint, true);
  }

  /**
   * A key-manager factory over this pair, made once per loaded pair. On {@code engine} OPENSSL it is
   * netty's caching factory: given a plain factory, netty's BoringSSL engine converts the chain and
   * the key to PEM and parses both again in every handshake (its certificate callback), and a
   * freshly parsed RSA key also recomputes its Montgomery constants at its first signature; the
   * caching factory converts once and hands every handshake the same native key. A reload builds a
   * new factory, so a replaced certificate is never served from the cache.
   */
  public KeyManagerFactory keyManagerFactory(TlsEngine engine) throws IOException, GeneralSecurityException {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    char[] password = new char[0];
    store.setKeyEntry("server", keyOf(this), password, chain.toArray(new X509Certificate[0]));
    KeyManagerFactory plain = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    KeyManagerFactory factory = engine.resolve() == TlsEngine.OPENSSL ? new OpenSslCachingX509KeyManagerFactory(plain) : plain;
    factory.init(store, password);
    return factory;
  }

  private static PrivateKey keyOf(TlsCredentials c) throws IOException {
    try (PEMParser parser = new PEMParser(new StringReader(c.keyPem))) {
      return new JcaPEMKeyConverter().getPrivateKey((PrivateKeyInfo) parser.readObject());
    }
  }

  /** SHA-256 fingerprint of the leaf certificate, as {@code AB:CD:...}. */
  public static String fingerprint(X509Certificate cert) throws GeneralSecurityException {
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
    return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
  }

  /** Reads a pair; with {@code now}, a certificate not valid then is refused. */
  static TlsCredentials read(Path certFile, Path keyFile, Instant now) throws IOException, GeneralSecurityException {
    List<X509Certificate> chain = new ArrayList<>();
    PrivateKey key = null;
    JcaX509CertificateConverter certs = new JcaX509CertificateConverter();
    JcaPEMKeyConverter keys = new JcaPEMKeyConverter();
    for (Path file : certFile.equals(keyFile) ? List.of(certFile) : List.of(certFile, keyFile)) {
      try (PEMParser parser = new PEMParser(new StringReader(Files.readString(file, StandardCharsets.US_ASCII)))) {
        Object o;
        while ((o = parser.readObject()) != null) {
          if (o instanceof X509CertificateHolder holder && file.equals(certFile)) {
            chain.add(certs.getCertificate(holder));
          } else if (o instanceof PEMKeyPair pair && file.equals(keyFile)) {
            // The private part alone: SEC1 keys may omit the public key (RFC 5915, openssl ec -no_public).
            key = keys.getPrivateKey(pair.getPrivateKeyInfo());
          } else if (o instanceof PrivateKeyInfo info && file.equals(keyFile)) {
            key = keys.getPrivateKey(info);
          }
        }
      } catch (IOException | RuntimeException e) {
        // Bouncy Castle reports bad base64 as an unchecked DecoderException.
        throw new IOException(file + ": not a readable PEM file: " + e.getMessage(), e);
      }
    }
    if (chain.isEmpty()) {
      throw new CertificateException(certFile + ": no certificate found");
    }
    if (key == null) {
      throw new GeneralSecurityException(keyFile + ": no private key found (encrypted keys are not supported)");
    }
    try {
      checkPair(chain.get(0), key, certFile);
    } catch (java.security.InvalidKeyException e) {
      throw new GeneralSecurityException(certFile + ": the private key does not match the certificate ("
          + key.getAlgorithm() + " key, " + chain.get(0).getPublicKey().getAlgorithm() + " certificate)", e);
    }
    if (now != null) {
      chain.get(0).checkValidity(Date.from(now));
    }
    StringWriter certPem = new StringWriter();
    StringWriter keyPem = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(certPem)) {
      for (X509Certificate c : chain) {
        w.writeObject(c);
      }
    }
    try (JcaPEMWriter w = new JcaPEMWriter(keyPem)) {
      w.writeObject(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(key, null));
    }
    return new TlsCredentials(certPem.toString(), keyPem.toString(), List.copyOf(chain), fingerprint(chain.get(0)),
        false);
  }

  /** A private key that does not belong to the certificate would only fail at the first handshake. */
  private static void checkPair(X509Certificate cert, PrivateKey key, Path certFile) throws GeneralSecurityException {
    String algorithm = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
    byte[] probe = new byte[32];
    new SecureRandom().nextBytes(probe);
    Signature signer = Signature.getInstance(algorithm);
    signer.initSign(key);
    signer.update(probe);
    byte[] signature = signer.sign();
    if (!key.getAlgorithm().equals(cert.getPublicKey().getAlgorithm())) {
      throw new java.security.InvalidKeyException("key type mismatch");
    }
    Signature verifier = Signature.getInstance(algorithm);
    verifier.initVerify(cert.getPublicKey());
    verifier.update(probe);
    if (!verifier.verify(signature)) {
      throw new GeneralSecurityException(certFile + ": the private key does not match the certificate");
    }
  }

  /** Writes a self-signed certificate for {@code pair}, and the key unless {@code keyFile} is null (a renewal). */
  private static void generate(Path certFile, Path keyFile, String hostname, KeyPair pair, Instant now)
      throws IOException, GeneralSecurityException {
    Files.createDirectories(certFile.getParent());
    X500Name subject = new X500Name("CN=" + hostname);
    JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject,
        new BigInteger(64, new SecureRandom()), Date.from(now.minus(Duration.ofHours(1))),
        Date.from(now.plus(GENERATED_VALIDITY)), subject, pair.getPublic());
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    builder.addExtension(Extension.subjectAlternativeName, false,
        new GeneralNames(new GeneralName(GeneralName.dNSName, hostname)));
    builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
    X509Certificate cert;
    try {
      cert = new JcaX509CertificateConverter().getCertificate(
          builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(pair.getPrivate())));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
    Path tmpKey = null;
    if (keyFile != null) {
      tmpKey = keyFile.resolveSibling(keyFile.getFileName() + ".tmp");
      Files.deleteIfExists(tmpKey);
      Files.createFile(tmpKey, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      try (var w = new JcaPEMWriter(Files.newBufferedWriter(tmpKey, StandardCharsets.US_ASCII))) {
        w.writeObject(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(pair.getPrivate(), null));
      }
    }
    StringWriter pem = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(pem)) {
      w.writeObject(cert);
    }
    Path tmpCert = certFile.resolveSibling(certFile.getFileName() + ".tmp");
    Files.writeString(tmpCert, pem.toString(), StandardCharsets.US_ASCII);
    // Key first: a certificate without its key would be unusable after a crash here.
    if (tmpKey != null) {
      Files.move(tmpKey, keyFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    Files.move(tmpCert, certFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  @Override
  public String toString() {
    return "TlsCredentials[" + chain.get(0).getSubjectX500Principal() + ", SHA-256 " + fingerprint + "]";
  }
}
