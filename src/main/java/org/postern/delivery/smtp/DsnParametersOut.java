package org.postern.delivery.smtp;

import org.postern.bus.DeliveryDsn;
import org.postern.smtp.XText;

/**
 * The RFC 3461 parameters as the smtp transport writes them to a next hop that offers DSN:
 * {@code RET=} and {@code ENVID=} on MAIL, {@code NOTIFY=} and {@code ORCPT=} on RCPT, values
 * xtext-encoded again (RFC 3461 4.2, 4.4), each after a space; empty when there is none.
 */
final class DsnParametersOut {
  private DsnParametersOut() {
  }

  static String mail(DeliveryDsn dsn) {
    StringBuilder sb = new StringBuilder();
    if (dsn.ret() != null) {
      sb.append(" RET=").append(dsn.ret());
    }
    if (dsn.envid() != null) {
      sb.append(" ENVID=").append(XText.encode(dsn.envid()));
    }
    return sb.toString();
  }

  static String rcpt(DeliveryDsn dsn, String recipient) {
    StringBuilder sb = new StringBuilder();
    String notify = dsn.notifyEvents().get(recipient);
    if (notify != null) {
      sb.append(" NOTIFY=").append(notify);
    }
    String orcpt = dsn.orcpt().get(recipient);
    if (orcpt != null) {
      int semicolon = orcpt.indexOf(';');
      sb.append(" ORCPT=").append(orcpt, 0, semicolon + 1).append(XText.encode(orcpt.substring(semicolon + 1)));
    }
    return sb.toString();
  }
}
