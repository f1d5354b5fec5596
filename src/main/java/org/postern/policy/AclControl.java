package org.postern.policy;

import java.util.Locale;

/**
 * The {@code control =} values Postern understands, with Exim's names. Anything else is a
 * configuration error, so a typo never silently does nothing.
 */
public enum AclControl {
  /** Do not advertise PIPELINING in the EHLO reply (connect and helo ACLs). */
  NO_PIPELINING,
  /**
   * The message is a submission from a client of ours: missing {@code Message-ID:}, {@code Date:}
   * and {@code From:} headers are added. Option {@code /domain=} sets the domain used for them.
   */
  SUBMISSION,
  /** Accept the message but do not deliver it now; the next queue run does (Exim's {@code queue}). */
  QUEUE,
  /** Keep the message frozen in the queue until an administrator thaws it. */
  FREEZE;

  /** The control's name in acl.yaml. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses {@code name[/option...]}, returning the control. Options are checked per control:
   * {@code submission/domain=...}, {@code freeze/no_tell}, {@code queue/only} (Exim's
   * {@code queue_only} spelling is accepted too).
   *
   * @throws IllegalArgumentException naming the unknown control or option
   */
  public static AclControl parse(String value) {
    String[] parts = value.strip().split("/");
    String name = parts[0].strip().toLowerCase(Locale.ROOT);
    AclControl control = switch (name) {
      case "no_pipelining" -> NO_PIPELINING;
      case "submission" -> SUBMISSION;
      case "queue", "queue_only" -> QUEUE;
      case "freeze" -> FREEZE;
      default -> throw new IllegalArgumentException("unknown control \"" + parts[0].strip()
          + "\" (supported: no_pipelining, submission, queue, freeze)");
    };
    for (int k = 1; k < parts.length; k++) {
      String option = parts[k].strip();
      boolean ok = switch (control) {
        case SUBMISSION -> option.startsWith("domain=") || option.equals("sender_retain");
        case FREEZE -> option.equals("no_tell");
        case QUEUE -> option.equals("only") || option.equals("first_pass_route");
        case NO_PIPELINING -> false;
      };
      if (!ok) {
        throw new IllegalArgumentException("control " + name + ": unknown option \"" + option + "\"");
      }
    }
    return control;
  }

  /** The value of option {@code key=} in a control string such as {@code submission/domain=x}, or null. */
  public static String option(String controlText, String key) {
    for (String part : controlText.split("/")) {
      String p = part.strip();
      if (p.startsWith(key + "=")) {
        return p.substring(key.length() + 1);
      }
    }
    return null;
  }
}
