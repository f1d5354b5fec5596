package org.postern.listener;

import java.util.List;

/** MIME messages for tests of the scanner and of the MIME ACL. */
public final class MimeScannerTestMessages {
  /** multipart/mixed with an alternative, an .EXE attachment and a message/rfc822; CRLF line ends. */
  public static final String WITH_EXE = MimeScannerTest.MESSAGE;

  /**
   * Content-Disposition {@code filename} parameters that a reader decodes to {@code evil.exe}:
   * RFC 2231 continuations, plain and encoded segments mixed, a charset that matters, a charset
   * Java does not know (read as ISO-8859-1), and RFC 2047 encoded-words, whole and inside a value.
   * A regex split of the header saw none of them as {@code .exe}.
   */
  public static final List<String> EXE_FILENAMES = List.of(
      "filename*0=\"evil\"; filename*1=\".exe\"",
      "filename=\"=?UTF-8?B?ZXZpbC5leGU=?=\"",
      "filename*0*=UTF-8''ev; filename*1=\"il.ex\"; filename*2=e",
      "filename*=utf-16be''%00e%00v%00i%00l%00.%00e%00x%00e",
      "filename*=x-postern-unknown''evil%2Eexe",
      "filename=\"evil=?UTF-8?Q?=2Eexe?=\"",
      "filename=\"=?UTF-8?Q?evil?= =?UTF-8?Q?=2Eexe?=\"");

  /**
   * Content-Disposition parameters that readers disagree on (a filter must not pick one): the plain
   * and the encoded form differ, a parameter twice, an encoded segment after a plain first one,
   * a gap in the segments, a segment number with a leading zero, a value that is not RFC 2045
   * (unquoted space).
   */
  public static final List<String> AMBIGUOUS_FILENAMES = List.of(
      "filename=\"report.pdf\"; filename*=UTF-8''evil.exe",
      "filename=\"report.pdf\"; filename=\"evil.exe\"",
      "filename*0=\"evil\"; filename*1*=%2Eexe",
      "filename*0=\"evil\"; filename*2=\".exe\"",
      "filename*0=\"evil\"; filename*01=\".exe\"",
      "filename=report .pdf");

  /** The Content-Type {@code name} twin of a {@code filename} parameter list. */
  public static String asName(String filenameParameters) {
    return filenameParameters.replace("filename", "name");
  }

  /**
   * multipart/mixed: a text part, then an attachment with {@code contentTypeParameters} after
   * {@code application/octet-stream} and {@code dispositionParameters} after {@code attachment}
   * (either may be empty); CRLF line ends.
   */
  public static String withAttachment(String contentTypeParameters, String dispositionParameters) {
    return String.join("\r\n",
        "From: a@example.org",
        "Subject: attachment",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"b1\"",
        "",
        "--b1",
        "Content-Type: text/plain; charset=us-ascii (Plain text)",
        "",
        "see the attachment",
        "--b1",
        "Content-Type: application/octet-stream" + (contentTypeParameters.isEmpty() ? "" : ";\r\n\t"
            + contentTypeParameters),
        "Content-Disposition: attachment" + (dispositionParameters.isEmpty() ? "" : ";\r\n "
            + dispositionParameters),
        "Content-Transfer-Encoding: base64",
        "",
        "TVqQAAMAAAAEAAAA",
        "--b1--",
        "");
  }

  /** A message whose multiparts nest {@code depth} deep, a text part in the innermost one. */
  public static String nested(int depth) {
    StringBuilder m = new StringBuilder("From: a@example.org\r\nMIME-Version: 1.0\r\n");
    for (int k = 0; k < depth; k++) {
      m.append("Content-Type: multipart/mixed; boundary=b").append(k).append("\r\n\r\n--b").append(k).append("\r\n");
    }
    m.append("Content-Type: application/octet-stream; name=\"deep.exe\"\r\n\r\nTVqQAAMAAAAEAAAA\r\n");
    for (int k = depth - 1; k >= 0; k--) {
      m.append("--b").append(k).append("--\r\n");
    }
    return m.toString();
  }

  private MimeScannerTestMessages() {
  }
}
