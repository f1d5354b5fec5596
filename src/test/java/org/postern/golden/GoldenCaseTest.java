package org.postern.golden;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The golden runner's reading of {@code NAME.in} files and its normalisation of volatile output. */
class GoldenCaseTest {
  @TempDir
  Path dir;

  private Path write(String name, String text) throws Exception {
    Path p = dir.resolve(name);
    Files.writeString(p, text, StandardCharsets.UTF_8);
    return p;
  }

  @Test
  void headersAndSessionAreRead() throws Exception {
    write("rules.yaml", "x:\n  - accept:\n");
    GoldenCase c = GoldenCase.read(write("case.in", "# -bh 2001:db8::5\n# acl: rules.yaml\n"
        + "# option: acl_smtp_mail: x\n# option: hostlist: { a: \"1.2.3.4\" }\nHELO h\n\n# not a header\nQUIT\n"), dir);
    assertEquals("case", c.name());
    assertEquals("2001:db8::5", c.address());
    assertEquals(dir.resolve("rules.yaml"), c.acl());
    assertEquals(Map.of("acl_smtp_mail", "x", "hostlist", "{ a: \"1.2.3.4\" }"), c.options());
    assertEquals(List.of("HELO h", "", "# not a header", "QUIT"), c.session());
    assertArrayEquals("HELO h\r\n\r\n# not a header\r\nQUIT\r\n".getBytes(StandardCharsets.UTF_8), c.input());
  }

  @Test
  void withoutAclHeaderTheShippedAclIsUsed() throws Exception {
    assertNull(GoldenCase.read(write("plain.in", "# -bh 192.0.2.1\nQUIT\n"), dir).acl());
  }

  @Test
  void badHeadersAreRefusedWithTheFileNamed() throws Exception {
    Path noAddress = write("a.in", "# option: a: b\nQUIT\n");
    assertEquals(noAddress + ": the \"# -bh ADDRESS\" header is required",
        assertThrows(IllegalArgumentException.class, () -> GoldenCase.read(noAddress, dir)).getMessage());
    Path unknown = write("b.in", "# -bh 192.0.2.1\n# acls: x.yaml\nQUIT\n");
    assertEquals(unknown + ": unknown header line # acls: x.yaml",
        assertThrows(IllegalArgumentException.class, () -> GoldenCase.read(unknown, dir)).getMessage());
    Path missingAcl = write("c.in", "# -bh 192.0.2.1\n# acl: missing.yaml\nQUIT\n");
    assertEquals(missingAcl + ": no acl file " + dir.resolve("missing.yaml"),
        assertThrows(IllegalArgumentException.class, () -> GoldenCase.read(missingAcl, dir)).getMessage());
    Path badOption = write("d.in", "# -bh 192.0.2.1\n# option: novalue\nQUIT\n");
    assertEquals(badOption + ": expected \"# option: name: value\", got # option: novalue",
        assertThrows(IllegalArgumentException.class, () -> GoldenCase.read(badOption, dir)).getMessage());
  }

  @Test
  void volatilePartsBecomePlaceholders() {
    assertEquals("250 2.0.0 OK id=<ID>", GoldenTranscript.normalise("250 2.0.0 OK id=1xXP6J-M3pyod-0000"));
    assertEquals("220 mx ESMTP <DATE>", GoldenTranscript.normalise("220 mx ESMTP Sat, 28 Nov 2026 20:32:29 +0000"));
    assertEquals("at <DATE> x", GoldenTranscript.normalise("at 2026-11-28 20:32:29 x"));
    assertEquals("H=[192.0.2.1]:<PORT> [2001:db8::5]:<PORT>",
        GoldenTranscript.normalise("H=[192.0.2.1]:40212 [2001:db8::5]:25"));
    assertEquals("file <TMP> here", GoldenTranscript.normalise("file /tmp/postern-test123/conf/acl.yaml here"));
    assertEquals("configuration generation <GEN> in force", GoldenTranscript.normalise("configuration generation 27c87f478d30 in force"));
    assertEquals("session local-<PID>", GoldenTranscript.normalise("session local-4711"));
    // Policy text is left alone.
    assertEquals(">>>   hosts = <; 10.0.0.0/8 ; 2001:db8::/32 => true",
        GoldenTranscript.normalise(">>>   hosts = <; 10.0.0.0/8 ; 2001:db8::/32 => true"));
  }

  @Test
  void transcriptKeepsRepliesThenTraceAndAclLogLines() {
    List<String> t = GoldenTranscript.of("220 hi\r\n250 ok\r\n",
        "JVM noise\n>>> rcpt ACL (x): accept\n2026-11-28 20:40:53 INFO  o.p.policy.AclEngine: x line 2: warn: hello\n"
            + "2026-11-28 20:40:53 INFO  o.p.c.ConfigVerticle: other\n");
    assertEquals(List.of("220 hi", "250 ok", "--- trace", ">>> rcpt ACL (x): accept", "LOG: x line 2: warn: hello"), t);
  }

  @Test
  void diffMarksExpectedAndActualLines() {
    assertEquals("--- expected\n+++ actual\n a\n-b\n+c\n d",
        LineDiff.render(List.of("a", "b", "d"), List.of("a", "c", "d")));
  }
}
