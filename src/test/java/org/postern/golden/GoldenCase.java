package org.postern.golden;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@code NAME.in} file of the {@code -bh} golden tests: leading header lines
 * <pre>
 * # -bh 192.0.2.1              (required: the client address)
 * # acl: relay-verbs.yaml       (optional: an acl yaml in golden/acl/; default the shipped conf/acl.yaml)
 * # option: acl_smtp_mail: acl_check_mail   (optional, repeatable: postern.yaml overrides)
 * </pre>
 * then the SMTP session, one line per command or data line; the runner ends each with CRLF.
 *
 * @param name     the file name without {@code .in}; names the dynamic test
 * @param address  the {@code -bh} argument
 * @param acl      the acl yaml file, or null for the shipped one
 * @param options  postern.yaml overrides, in file order, values in YAML syntax
 * @param session  the SMTP input lines
 */
record GoldenCase(String name, String address, Path acl, Map<String, String> options, List<String> session) {
  private static final String BH = "# -bh ";
  private static final String ACL = "# acl: ";
  private static final String OPTION = "# option: ";

  /** Reads {@code NAME.in}; acl files are looked up in {@code aclDir}. */
  static GoldenCase read(Path in, Path aclDir) throws IOException {
    String file = in.getFileName().toString();
    String name = file.substring(0, file.length() - ".in".length());
    String address = null;
    Path acl = null;
    Map<String, String> options = new LinkedHashMap<>();
    List<String> session = new ArrayList<>();
    boolean header = true;
    for (String line : Files.readAllLines(in, StandardCharsets.UTF_8)) {
      if (header && line.startsWith(BH)) {
        address = line.substring(BH.length()).strip();
      } else if (header && line.startsWith(ACL)) {
        acl = aclDir.resolve(line.substring(ACL.length()).strip());
        if (!Files.isRegularFile(acl)) {
          throw new IllegalArgumentException(in + ": no acl file " + acl);
        }
      } else if (header && line.startsWith(OPTION)) {
        String option = line.substring(OPTION.length());
        int colon = option.indexOf(':');
        if (colon < 1) {
          throw new IllegalArgumentException(in + ": expected \"# option: name: value\", got " + line);
        }
        options.put(option.substring(0, colon).strip(), option.substring(colon + 1).strip());
      } else if (header && line.startsWith("#")) {
        throw new IllegalArgumentException(in + ": unknown header line " + line);
      } else {
        header = false;
        session.add(line);
      }
    }
    if (address == null) {
      throw new IllegalArgumentException(in + ": the \"# -bh ADDRESS\" header is required");
    }
    return new GoldenCase(name, address, acl, Map.copyOf(options), List.copyOf(session));
  }

  /** The session as the client sends it: every line ended by CRLF. */
  byte[] input() {
    StringBuilder sb = new StringBuilder();
    session.forEach(l -> sb.append(l).append("\r\n"));
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }
}
