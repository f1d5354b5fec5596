package org.postern.queue;

import org.postern.smtp.XText;
import org.postern.spool.Envelope;

import java.util.Locale;

/**
 * A message's RFC 3461 values as Exim's {@code -H} spool file writes them, for {@code -Mvh}:
 * {@code -dsn_envid <xtext>} and {@code -dsn_ret <n>} (1 FULL, 2 HDRS, Exim's {@code dsn_ret_*}),
 * then the recipients list preceded by its count, where a recipient with NOTIFY or ORCPT has Exim's
 * extended form {@code address orcpt len,flags errors_to len,pno#3} (flags: 0x02 NEVER,
 * 0x04 SUCCESS, 0x08 FAILURE, 0x10 DELAY; no errors_to, parent -1) and the others the bare address.
 * Empty when the message carries no DSN value, so {@code -Mvh} of such a message is unchanged.
 * Exim's file keeps ENVID and ORCPT as received, xtext-encoded; Postern keeps them decoded and
 * encodes them again here.
 */
final class DsnSpoolLines {
  private DsnSpoolLines() {
  }

  /** The lines (LF-ended, as in Exim's file), or "" when no DSN value was given. */
  static String of(Envelope e) {
    boolean any = e.dsnRet() != null || e.dsnEnvid() != null
        || e.recipients().stream().anyMatch(r -> r.dsnNotify() != null || r.dsnOrcpt() != null);
    if (!any) {
      return "";
    }
    StringBuilder out = new StringBuilder();
    if (e.dsnEnvid() != null) {
      out.append("-dsn_envid ").append(XText.encode(e.dsnEnvid())).append('\n');
    }
    if (e.dsnRet() != null) {
      out.append("-dsn_ret ").append(e.dsnRet().equals("FULL") ? 1 : 2).append('\n');
    }
    out.append(e.recipients().size()).append('\n');
    for (Envelope.Recipient r : e.recipients()) {
      int flags = flags(r.dsnNotify());
      if (flags == 0 && r.dsnOrcpt() == null) {
        out.append(r.address()).append('\n');
        continue;
      }
      String orcpt = r.dsnOrcpt() == null ? "" : orcpt(r.dsnOrcpt());
      out.append(r.address()).append(' ').append(orcpt).append(' ').append(orcpt.length()).append(',')
          .append(flags).append("  0,-1#3\n");
    }
    return out.toString();
  }

  /** Exim's rf_notify_* bits (macros.h). */
  private static int flags(String notify) {
    if (notify == null) {
      return 0;
    }
    int flags = 0;
    for (String event : notify.toUpperCase(Locale.ROOT).split(",")) {
      flags |= switch (event) {
        case "NEVER" -> 0x02;
        case "SUCCESS" -> 0x04;
        case "FAILURE" -> 0x08;
        case "DELAY" -> 0x10;
        default -> 0;
      };
    }
    return flags;
  }

  /** {@code rfc822;} and the address xtext-encoded, as it came on RCPT. */
  private static String orcpt(String decoded) {
    int semicolon = decoded.indexOf(';');
    return decoded.substring(0, semicolon + 1) + XText.encode(decoded.substring(semicolon + 1));
  }
}
