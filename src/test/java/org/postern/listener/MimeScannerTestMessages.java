package org.postern.listener;

/** A MIME message for tests of the scanner and of the MIME ACL. */
public final class MimeScannerTestMessages {
  /** multipart/mixed with an alternative, an .EXE attachment and a message/rfc822; CRLF line ends. */
  public static final String WITH_EXE = MimeScannerTest.MESSAGE;

  private MimeScannerTestMessages() {
  }
}
