package org.postern.plugins.milter;

/**
 * The Sendmail milter protocol's codes (libmilter's {@code mfdef.h}, version 6, as Postfix's
 * {@code milter8.c} speaks it): command bytes from the MTA, reply bytes from the milter, and the
 * bits of the option negotiation.
 */
final class MilterCodes {
  /** The protocol version Postern offers (Sendmail 8.14 / Postfix 2.6 and later). */
  static final int VERSION = 6;

  // Commands, MTA to milter.
  static final byte ABORT = 'A';
  static final byte BODY = 'B';
  static final byte CONNECT = 'C';
  static final byte MACRO = 'D';
  static final byte BODYEOB = 'E';
  static final byte HELO = 'H';
  static final byte HEADER = 'L';
  static final byte MAIL = 'M';
  static final byte EOH = 'N';
  static final byte OPTNEG = 'O';
  static final byte QUIT = 'Q';
  static final byte RCPT = 'R';
  static final byte DATA = 'T';

  // Replies, milter to MTA.
  static final byte ADDRCPT = '+';
  static final byte DELRCPT = '-';
  static final byte ADDRCPT_PAR = '2';
  static final byte SHUTDOWN = '4';
  static final byte ACCEPT = 'a';
  static final byte REPLBODY = 'b';
  static final byte CONTINUE = 'c';
  static final byte DISCARD = 'd';
  static final byte CHGFROM = 'e';
  static final byte CONN_FAIL = 'f';
  static final byte ADDHEADER = 'h';
  static final byte INSHEADER = 'i';
  static final byte SETSYMLIST = 'l';
  static final byte CHGHEADER = 'm';
  static final byte PROGRESS = 'p';
  static final byte QUARANTINE = 'q';
  static final byte REJECT = 'r';
  static final byte SKIP = 's';
  static final byte TEMPFAIL = 't';
  static final byte REPLYCODE = 'y';

  // Actions the milter may take (SMFIF_*): Postern offers all of them.
  static final int F_ADDHDRS = 1;
  static final int F_CHGBODY = 1 << 1;
  static final int F_ADDRCPT = 1 << 2;
  static final int F_DELRCPT = 1 << 3;
  static final int F_CHGHDRS = 1 << 4;
  static final int F_QUARANTINE = 1 << 5;
  static final int F_CHGFROM = 1 << 6;
  static final int F_ADDRCPT_PAR = 1 << 7;
  static final int F_SETSYMLIST = 1 << 8;
  static final int ACTIONS = F_ADDHDRS | F_CHGBODY | F_ADDRCPT | F_DELRCPT | F_CHGHDRS | F_QUARANTINE | F_CHGFROM
      | F_ADDRCPT_PAR | F_SETSYMLIST;

  // Protocol steps the milter may skip (SMFIP_NO*) or not answer (SMFIP_NR_*).
  static final int P_NOCONNECT = 1;
  static final int P_NOHELO = 1 << 1;
  static final int P_NOMAIL = 1 << 2;
  static final int P_NORCPT = 1 << 3;
  static final int P_NOBODY = 1 << 4;
  static final int P_NOHDRS = 1 << 5;
  static final int P_NOEOH = 1 << 6;
  static final int P_NR_HDR = 1 << 7;
  static final int P_NOUNKNOWN = 1 << 8;
  static final int P_NODATA = 1 << 9;
  /** The MTA understands SMFIR_SKIP (stop sending body chunks). */
  static final int P_SKIP = 1 << 10;
  static final int P_NR_CONN = 1 << 12;
  static final int P_NR_HELO = 1 << 13;
  static final int P_NR_MAIL = 1 << 14;
  static final int P_NR_RCPT = 1 << 15;
  static final int P_NR_DATA = 1 << 16;
  static final int P_NR_UNKN = 1 << 17;
  static final int P_NR_EOH = 1 << 18;
  static final int P_NR_BODY = 1 << 19;
  /** Header values are sent with the space after the colon (and milters add theirs so). */
  static final int P_HDR_LEADSPC = 1 << 20;
  /** What Postern offers: every step may be skipped or left unanswered; SKIP; leading spaces. */
  static final int PROTOCOL = P_NOCONNECT | P_NOHELO | P_NOMAIL | P_NORCPT | P_NOBODY | P_NOHDRS | P_NOEOH
      | P_NR_HDR | P_NOUNKNOWN | P_NODATA | P_SKIP | P_NR_CONN | P_NR_HELO | P_NR_MAIL | P_NR_RCPT | P_NR_DATA
      | P_NR_UNKN | P_NR_EOH | P_NR_BODY | P_HDR_LEADSPC;

  // Macro stages in a SETSYMLIST (SMFIM_*).
  static final int M_CONNECT = 0;
  static final int M_HELO = 1;
  static final int M_ENVFROM = 2;
  static final int M_ENVRCPT = 3;
  static final int M_DATA = 4;
  static final int M_EOM = 5;
  static final int M_EOH = 6;

  /** Address families in SMFIC_CONNECT. */
  static final byte FAMILY_UNKNOWN = 'U';
  static final byte FAMILY_INET = '4';
  static final byte FAMILY_INET6 = '6';

  /** libmilter's body chunk (MILTER_CHUNK_SIZE). */
  static final int CHUNK = 65535;
  /**
   * The largest reply packet accepted: libmilter's largest negotiable data size (1 MiB) and the
   * command byte. A longer length field is a broken or hostile milter.
   */
  static final int MAX_PACKET = (1 << 20) + 1;

  private MilterCodes() {
  }
}
