package org.postern.policy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RFC 5322 address headers as {@code verify = header_syntax} judges them. */
class AddressHeaderSyntaxTest {

  @ParameterizedTest
  @ValueSource(strings = {
      "From: alice@example.org",
      "From: Alice Example <alice@example.org>",
      "From: \"Example, Alice\" <alice@example.org>",
      "From: alice@example.org (Alice in a comment (nested))",
      "To: a@example.org, b@example.org,\r\n  \"C D\" <c@example.org>",
      "To: undisclosed-recipients:;",
      "To: team: a@example.org, b@example.org;, c@example.org",
      "Cc: J. R. Example <jr@example.org>",
      "Cc: a@example.org,, b@example.org",
      "Reply-To: <@relay.example:alice@example.org>",
      "Bcc: \"odd local\"@example.org",
      "To: user@[192.0.2.1]",
      "Subject: not an address: so ignored <<<",
      "Resent-From: Postmaster <postmaster@example.org>",
  })
  void validHeadersPass(String header) {
    assertNull(AddressHeaderSyntax.firstError(header + "\r\n"), header);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "From: alice                               | unqualified",
      "From: Alice <alice@example.org            | missing '>'",
      "From: <alice@>                            | missing domain",
      "To: a@example.org b@example.org           | missing comma",
      "To: team: a@example.org                   | closing ';'",
      "To:                                       | empty",
      "Cc: a@@example.org                        | missing domain",
      "Cc: \"unterminated@example.org            | local part",
      "Reply-To: a@example..org                  | malformed domain",
      "Resent-To: <a@[192.0.2.1>                 | unterminated",
  })
  void malformedHeadersFailWithAReason(String header, String reason) {
    String error = AddressHeaderSyntax.firstError("Subject: x\r\n" + header + "\r\n");
    assertNotNull(error, header);
    assertTrue(error.contains(reason), error);
    assertTrue(error.startsWith("'" + header.substring(0, header.indexOf(':') + 1) + "' header"), error);
  }
}
