package org.postern.testing;

import javax.net.ssl.X509TrustManager;
import java.security.cert.X509Certificate;

/**
 * A trust manager that accepts any certificate, for a test peer that only looks at what it was
 * shown (a scripted server reporting the client's DN, a client reading the served fingerprint).
 */
public final class TrustEverything implements X509TrustManager {
  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) {
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) {
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return new X509Certificate[0];
  }
}
