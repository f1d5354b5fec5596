package org.postern.listener;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import org.postern.bus.Addresses;
import org.postern.bus.TlsScan;
import org.postern.config.ConfigHolder;
import org.postern.config.PosternConfig;
import org.postern.config.TlsSettings;
import org.postern.tls.ClientRenegotiation;
import org.postern.tls.TlsCredentials;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Keeps {@link TlsState} current: loads (or generates) the server certificate at start, and
 * reloads when the configuration changes, when the certificate, key or CA files change on disk,
 * or when the generated certificate is due for renewal (checked every second). All file and key
 * work runs off the event loop. A broken new certificate is refused with a log line and the
 * previous one stays in force. Each scan ends with a {@link TlsScan} event saying what it did.
 */
public final class TlsVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(TlsVerticle.class);
  /** A failed renewal is tried again after this, not every second. */
  private static final Duration RENEWAL_RETRY = Duration.ofMinutes(1);
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);
  private final Clock clock;
  private Instant nextRenewal = Instant.MIN;
  private ConfigHolder config;
  private TlsState state;
  private List<Object> loadedStamp = List.of();
  private boolean reloading;

  public TlsVerticle() {
    this(Clock.systemUTC());
  }

  /** With the clock that decides when the generated certificate is renewed. */
  public TlsVerticle(Clock clock) {
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    ClientRenegotiation.refuse();
    config = ConfigHolder.of(vertx);
    // Read once: the listeners take it when they start, so a change needs a restart.
    LOG.info("TLS engine: {}", config.current().tls().engine().describe());
    state = TlsState.of(vertx);
    vertx.eventBus().localConsumer(Addresses.CONFIG_CHANGED, m -> reloadIfChanged());
    vertx.setPeriodic(1000, config().getLong("tls_scan_period_ms", 1000L), t -> reloadIfChanged());
    // No reload may overlap the first load: it could generate a second self-signed certificate.
    reloading = true;
    return load(config.current()).otherwiseEmpty().andThen(r -> reloading = false);
  }

  private void reloadIfChanged() {
    if (reloading) {
      return;
    }
    PosternConfig c = config.current();
    reloading = true;
    boolean renew = renewalDue(c.tls());
    vertx.executeBlocking(() -> stamp(c.tls()), false).compose(stamp -> {
      if (stamp.equals(loadedStamp) && !renew) {
        return Future.succeededFuture(TlsScan.Outcome.UNCHANGED);
      }
      return load(c).map(TlsScan.Outcome.RELOADED);
    }).onComplete(r -> {
      if (renew && r.failed()) {
        nextRenewal = clock.instant().plus(RENEWAL_RETRY);
      }
      reloading = false;
      vertx.eventBus().publish(Addresses.TLS_SCANNED,
          new TlsScan(r.succeeded() ? r.result() : TlsScan.Outcome.FAILED).toJson(), LOCAL);
    });
  }

  private Future<TlsProfiles> load(PosternConfig c) {
    TlsSettings s = c.tls();
    return vertx.executeBlocking(() -> {
      List<Object> stamp = stamp(s);
      TlsCredentials credentials = TlsCredentials.load(s.certificate(), s.privateKey(), s.directory(),
          c.primaryHostname(), clock.instant());
      X509TrustManager authorities = s.verifyCertificates() == null ? null : authorities(s.verifyCertificates());
      return new Loaded(TlsProfiles.build(credentials, s, authorities), stamp);
    }, false).map(loaded -> {
      TlsProfiles profiles = loaded.profiles();
      loadedStamp = loaded.stamp();
      boolean first = state.current() == null;
      state.set(profiles);
      TlsCredentials cred = profiles.credentials();
      if (cred.generated()) {
        LOG.info("generated a self-signed TLS certificate for {} in {}, valid until {}; SHA-256 fingerprint {}",
            c.primaryHostname(), s.directory(), cred.chain().get(0).getNotAfter().toInstant(), cred.fingerprint());
      }
      LOG.info("TLS certificate {} {} (SHA-256 {})", cred.chain().get(0).getSubjectX500Principal(),
          first ? "in use" : "reloaded", cred.fingerprint());
      vertx.eventBus().publish(TlsState.CHANGED, cred.fingerprint());
      return profiles;
    }).onFailure(e -> {
      // Remember what failed, so the same broken files are refused once, not every second.
      loadedStamp = stampOrEmpty(s);
      LOG.error("TLS certificate refused{}: {}", state.current() == null ? " (STARTTLS unavailable)"
          : " (the previous certificate stays in force)", e.getMessage());
    });
  }

  private record Loaded(TlsProfiles profiles, List<Object> stamp) {
  }

  /** The generated certificate in force is due for renewal (and no failed attempt is too recent). */
  private boolean renewalDue(TlsSettings s) {
    TlsProfiles current = state.current();
    Instant now = clock.instant();
    return s.certificate() == null && current != null && current.credentials().renewalDue(now)
        && !now.isBefore(nextRenewal);
  }

  private static List<Object> stampOrEmpty(TlsSettings s) {
    try {
      return stamp(s);
    } catch (IOException e) {
      return List.of();
    }
  }

  /** What a reload depends on: the settings and each file's modification time and size. */
  private static List<Object> stamp(TlsSettings s) throws IOException {
    List<Object> stamp = new ArrayList<>();
    stamp.add(s);
    for (Path p : new Path[] {s.certificate(), s.privateKey(), s.verifyCertificates()}) {
      if (p != null && Files.exists(p)) {
        stamp.add(Files.getLastModifiedTime(p).toMillis());
        stamp.add(Files.size(p));
      } else {
        stamp.add(Objects.toString(p));
      }
    }
    return stamp;
  }

  private static X509TrustManager authorities(Path bundle) throws IOException, GeneralSecurityException {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    int n = 0;
    try (InputStream in = Files.newInputStream(bundle)) {
      for (Certificate cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        store.setCertificateEntry("ca" + n++, cert);
      }
    }
    if (n == 0) {
      throw new GeneralSecurityException(bundle + ": no CA certificate found");
    }
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(store);
    for (TrustManager tm : factory.getTrustManagers()) {
      if (tm instanceof X509TrustManager x509) {
        return x509;
      }
    }
    throw new GeneralSecurityException("no X.509 trust manager");
  }
}
