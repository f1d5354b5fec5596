package org.postern.lists;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Exim address lists, local part lists and file items. */
class AddressListTest {

  @ParameterizedTest(name = "{0} ~ {1} -> {2}")
  @CsvSource(delimiter = '|', value = {
      "user@example.com                 | user@example.com        | true",
      "user@example.com                 | USER@Example.COM        | true",
      "user@example.com                 | other@example.com       | false",
      "*@example.com                    | anyone@example.com      | true",
      "*@example.com                    | anyone@sub.example.com  | false",
      "*@*.example.com                  | anyone@sub.example.com  | true",
      "*-request@lists.example          | foo-request@lists.example | true",
      "*-request@lists.example          | foo@lists.example       | false",
      "example.com                      | a@example.com           | true",
      "*.example.com                    | a@b.example.com         | true",
      "*.example.com                    | a@example.com           | false",
      "^[a-z]+\\d+@spam\\.example$      | abc123@spam.example     | true",
      "^[a-z]+\\d+@spam\\.example$      | abc@spam.example        | false",
      "!bad@example.com : *@example.com | bad@example.com         | false",
      "!bad@example.com : *@example.com | good@example.com        | true",
      "!bad@example.com                 | good@elsewhere.example  | true",
      "*                                | a@b.example             | true",
  })
  void addressItems(String list, String address, boolean expected) {
    assertEquals(expected, AddressList.of(list).matches(address));
  }

  @Test
  void onlyAnEmptyItemMatchesTheNullSender() {
    assertTrue(AddressList.of(":").matches(""));
    assertTrue(AddressList.parse(List.of(""), true, null, null, null).matches(""));
    assertFalse(AddressList.of("*").matches(""));
    assertFalse(AddressList.of("*@*").matches(""));
    assertFalse(AddressList.of("^.*").matches(""));
    assertFalse(AddressList.of(":").matches("a@b.example"));
  }

  @Test
  void namedListsAndTheirErrors() {
    AddressList vips = AddressList.of("boss@example.com : ceo@example.com");
    AddressList list = AddressList.parse(List.of("+vips : *@partner.example"), false, null,
        name -> name.equals("vips") ? vips : null, null);
    assertTrue(list.matches("ceo@example.com"));
    assertTrue(list.matches("x@partner.example"));
    assertFalse(list.matches("x@example.com"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AddressList.parse(List.of("+nope"), false, null, name -> null, null));
    assertTrue(e.getMessage().contains("unknown named address list \"nope\""), e.getMessage());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "@@lsearch;/etc/x | lookups",
      "^(unclosed       | regular expression",
      "@example.com     | empty local part",
      "a@exam ple.com   | U+0020",
  })
  void badItemsAreRefusedWithTheItem(String item, String fragment) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AddressList.of(item));
    assertTrue(e.getMessage().contains(fragment), e.getMessage());
    assertTrue(e.getMessage().contains("item 1"), e.getMessage());
  }

  @Test
  void localPartLists() {
    LocalPartList list = LocalPartList.parse(List.of("postmaster : abuse : *-owner : ^bounce[0-9]+$"),
        false, null, null);
    assertTrue(list.matches("Postmaster"));
    assertTrue(list.matches("list-owner"));
    assertTrue(list.matches("bounce42"));
    assertFalse(list.matches("bounce"));
    assertFalse(list.matches("alice"));
    // A list ending in a negative item holds everything else (Exim's rule).
    LocalPartList allButRoot = LocalPartList.parse(List.of("!root"), true, null, null);
    assertFalse(allButRoot.matches("root"));
    assertTrue(allButRoot.matches("alice"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LocalPartList.parse(List.of("@"), false, null, null));
    assertTrue(e.getMessage().contains("local part list"), e.getMessage());
  }

  @Test
  void fileItemsAreReadOnePerLineWithCommentsAndNegation(@TempDir Path dir) throws Exception {
    Path hosts = dir.resolve("hosts");
    Files.writeString(hosts, "# trusted networks\n192.0.2.0/24\n\n  !198.51.100.7\n198.51.100.0/24\n");
    ListFiles files = new ListFiles();
    HostList list = HostList.parse(hosts + " : 203.0.113.1", null, files);
    assertTrue(list.matches("192.0.2.55", null));
    assertTrue(list.matches("198.51.100.8", null));
    assertFalse(list.matches("198.51.100.7", null));
    assertTrue(list.matches("203.0.113.1", null));
    assertFalse(list.matches("203.0.113.2", null));
    assertEquals(List.of(hosts), List.copyOf(files.contents().keySet()));

    // !/file inverts every item of the file.
    Path blocked = dir.resolve("blocked");
    Files.writeString(blocked, "spam.example\n");
    DomainList domains = DomainList.parse("!" + blocked + " : *", null, null, files);
    assertFalse(domains.matches("spam.example"));
    assertTrue(domains.matches("ham.example"));

    Path senders = dir.resolve("senders");
    Files.writeString(senders, "*@partner.example\n# comment\nboss@example.com\n");
    AddressList addresses = AddressList.parse(List.of(senders.toString()), true, null, null, files);
    assertTrue(addresses.matches("x@partner.example"));
    assertTrue(addresses.matches("boss@example.com"));
    assertFalse(addresses.matches("x@example.com"));
  }

  @Test
  void fileErrorsNameTheFileAndLine(@TempDir Path dir) throws Exception {
    Path bad = dir.resolve("bad");
    Files.writeString(bad, "192.0.2.1\n# fine\n10.1/16\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> HostList.parse(bad.toString(), null, new ListFiles()));
    assertTrue(e.getMessage().contains(bad + " line 3"), e.getMessage());

    Path nested = dir.resolve("nested");
    Files.writeString(nested, bad + "\n");
    e = assertThrows(IllegalArgumentException.class, () -> HostList.parse(nested.toString(), null, new ListFiles()));
    assertTrue(e.getMessage().contains("cannot name another file"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class,
        () -> HostList.parse(dir.resolve("missing").toString(), null, new ListFiles()));
    assertTrue(e.getMessage().contains("cannot read list file " + dir.resolve("missing")), e.getMessage());

    e = assertThrows(IllegalArgumentException.class, () -> HostList.parse(bad.toString(), null));
    assertTrue(e.getMessage().contains("file names are not allowed here"), e.getMessage());
  }
}
