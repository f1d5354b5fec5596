package org.postern.config;

/** What to do with a message whose DATA holds bare LF or bare CR line ends ({@code bare_lf}). */
public enum BareLineEnds {
  /** 550 5.6.0: the safe default, as SMTP smuggling (CVE-2023-51766) relies on them. */
  REJECT,
  /** Store them as CRLF; they still never end DATA. */
  NORMALIZE
}
