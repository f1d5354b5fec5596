package org.postern.tls;

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
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;

/**
 * The server's certificate chain and private key, read from PEM files ({@code tls_certificate},
 * {@code tls_privatekey}: RSA or EC, PKCS#1, SEC1 or PKCS#8) or, when none is configured, a
 * self-signed certificate generated once with Bouncy Castle and reused afterwards. The key is
 * checked against the certificate, so a mismatched pair is refused at load time, not at the
 * first handshake. Blocking: load on a worker.
 *
 * @param certificatePem the chain, normalized PEM
 * @param keyPem         the key as PKCS#8 PEM (what every TLS engine reads)
 * @param generated      true when Postern made the certificate itself
 */
public record TlsCredentials(String certificatePem, String keyPem, List<X509Certificate> chain, String fingerprint,
                             boolean generated) {

  static final String GENERATED_CERT = "postern.crt";
  static final String GENERATED_KEY = "postern.key";

  /** Loads the configured pair, or the generated one in {@code directory} (creating it on first use). */
  public static TlsCredentials load(Path certificate, Path privateKey, Path directory, String hostname)
      throws IOException, GeneralSecurityException {
    if (certificate == null) {
      Path cert = directory.resolve(GENERATED_CERT);
      Path key = directory.resolve(GENERATED_KEY);
      if (!Files.exists(cert) || !Files.exists(key)) {
        generate(cert, key, hostname);
        TlsCredentials made = read(cert, key);
        return new TlsCredentials(made.certificatePem, made.keyPem, made.chain, made.fingerprint, true);
      }
      return read(cert, key);
    }
    return read(certificate, privateKey == null ? certificate : privateKey);
  }

  /** SHA-256 fingerprint of the leaf certificate, as {@code AB:CD:...}. */
  public static String fingerprint(X509Certificate cert) throws GeneralSecurityException {
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
    return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
  }

  static TlsCredentials read(Path certFile, Path keyFile) throws IOException, GeneralSecurityException {
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
    chain.get(0).checkValidity();
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

  private static void generate(Path certFile, Path keyFile, String hostname) throws IOException, GeneralSecurityException {
    Files.createDirectories(certFile.getParent());
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    KeyPair pair = generator.generateKeyPair();
    X500Name subject = new X500Name("CN=" + hostname);
    Instant now = Instant.now();
    JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject,
        new BigInteger(64, new SecureRandom()), Date.from(now.minus(Duration.ofHours(1))),
        Date.from(now.plus(Duration.ofDays(3650))), subject, pair.getPublic());
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
    Path tmpKey = keyFile.resolveSibling(keyFile.getFileName() + ".tmp");
    Files.deleteIfExists(tmpKey);
    Files.createFile(tmpKey, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try (var w = new JcaPEMWriter(Files.newBufferedWriter(tmpKey, StandardCharsets.US_ASCII))) {
      w.writeObject(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(pair.getPrivate(), null));
    }
    StringWriter pem = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(pem)) {
      w.writeObject(cert);
    }
    Path tmpCert = certFile.resolveSibling(certFile.getFileName() + ".tmp");
    Files.writeString(tmpCert, pem.toString(), StandardCharsets.US_ASCII);
    // Key first: a certificate without its key would be unusable after a crash here.
    Files.move(tmpKey, keyFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.move(tmpCert, certFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  @Override
  public String toString() {
    return "TlsCredentials[" + chain.get(0).getSubjectX500Principal() + ", SHA-256 " + fingerprint + "]";
  }
}
