package org.postern.listener.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postern.listener.proxy.ProxyHeaderDecoder.MalformedHeaderException;

/**
 * Every input is fed whole, a byte at a time and split in two at every offset: the header and the
 * bytes left over after it must be the same each way, and a malformed header must fail each way.
 */
class ProxyHeaderDecoderTest {
  /** What a client pipelines after the header: it must come out untouched. */
  private static final byte[] TAIL = "EHLO client.example\r\n".getBytes(StandardCharsets.US_ASCII);
  /** The start of a TLS ClientHello, as on an implicit-TLS port. */
  private static final byte[] CLIENT_HELLO = {0x16, 0x03, 0x01, 0x00, (byte) 0xc8, 0x01};

  private record Decoded(ProxyHeader header, byte[] rest) {
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  /** Feeds {@code input} in pieces ending at {@code cuts}; returns the header and what was not consumed. */
  private static Decoded feed(byte[] input, int... cuts) throws MalformedHeaderException {
    ProxyHeaderDecoder d = new ProxyHeaderDecoder();
    ByteArrayOutputStream rest = new ByteArrayOutputStream();
    int from = 0;
    int[] ends = Arrays.copyOf(cuts, cuts.length + 1);
    ends[cuts.length] = input.length;
    for (int end : ends) {
      int used = d.feed(input, from, end - from);
      assertTrue(used <= end - from);
      if (used < end - from) {
        assertNotNull(d.header(), "bytes left over before the header was complete");
      }
      if (d.header() != null) {
        rest.write(input, from + used, end - from - used);
      }
      from = end;
    }
    return new Decoded(d.header(), rest.toByteArray());
  }

  /** Decodes every way; all must agree; returns the header. */
  private static ProxyHeader decodesEveryWay(byte[] header, byte[] tail) throws MalformedHeaderException {
    byte[] input = concat(header, tail);
    Decoded whole = feed(input);
    assertNotNull(whole.header(), "no header decoded");
    assertArrayEquals(tail, whole.rest(), "bytes after the header");
    for (int cut = 0; cut <= input.length; cut++) {
      Decoded split = feed(input, cut);
      assertEquals(describe(whole.header()), describe(split.header()), "split at " + cut);
      assertArrayEquals(tail, split.rest(), "split at " + cut);
    }
    int[] everyByte = new int[input.length];
    for (int k = 0; k < input.length; k++) {
      everyByte[k] = k;
    }
    Decoded trickled = feed(input, everyByte);
    assertEquals(describe(whole.header()), describe(trickled.header()), "a byte at a time");
    assertArrayEquals(tail, trickled.rest(), "a byte at a time");
    return whole.header();
  }

  /** Must fail however it is split, and never report a header. */
  private static String failsEveryWay(byte[] input) {
    String reason = assertThrows(MalformedHeaderException.class, () -> feed(input)).getMessage();
    for (int cut = 0; cut <= input.length; cut++) {
      int at = cut;
      assertEquals(reason, assertThrows(MalformedHeaderException.class, () -> feed(input, at),
          "split at " + at).getMessage());
    }
    return reason;
  }

  private static String describe(ProxyHeader h) {
    if (h == null) {
      return null;
    }
    StringBuilder s = new StringBuilder("v" + h.version() + " " + h.sourceAddress() + ":" + h.sourcePort() + " -> "
        + h.destinationAddress() + ":" + h.destinationPort());
    h.tlvs().forEach(t -> s.append(" tlv").append(t.type()).append('=').append(Arrays.toString(t.value())));
    return s.toString();
  }

  // ---------------------------------------------------------------------------------------------
  // v1

  @Test
  void v1Tcp4GivesTheClientAndLeavesPipelinedCommands() throws Exception {
    ProxyHeader h = decodesEveryWay(ascii("PROXY TCP4 192.0.2.10 198.51.100.1 40000 25\r\n"), TAIL);
    assertEquals(1, h.version());
    assertTrue(h.hasAddresses());
    assertEquals("192.0.2.10", h.sourceAddress());
    assertEquals(40000, h.sourcePort());
    assertEquals("198.51.100.1", h.destinationAddress());
    assertEquals(25, h.destinationPort());
  }

  @Test
  void v1Tcp6AddressesComeOutInTheFormOfADirectPeer() throws Exception {
    ProxyHeader h = decodesEveryWay(ascii("PROXY TCP6 2001:db8::10 2001:db8::1 65535 0\r\n"), CLIENT_HELLO);
    assertEquals("2001:db8:0:0:0:0:0:10", h.sourceAddress());
    assertEquals(65535, h.sourcePort());
    assertEquals("2001:db8:0:0:0:0:0:1", h.destinationAddress());
    assertEquals(0, h.destinationPort());
  }

  @Test
  void v1UnknownKeepsTheTcpPeerAndIgnoresTheRestOfItsLine() throws Exception {
    assertFalse(decodesEveryWay(ascii("PROXY UNKNOWN\r\n"), TAIL).hasAddresses());
    assertFalse(decodesEveryWay(ascii("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n"), TAIL)
        .hasAddresses());
  }

  @Test
  void v1LineOfExactly107BytesIsAcceptedAnd108IsNot() throws Exception {
    String prefix = "PROXY UNKNOWN ";
    String longest = prefix + "x".repeat(107 - prefix.length() - 2) + "\r\n";
    assertEquals(107, longest.length());
    assertFalse(decodesEveryWay(ascii(longest), TAIL).hasAddresses());
    String tooLong = prefix + "x".repeat(108 - prefix.length() - 2) + "\r\n";
    assertEquals("v1 header longer than 107 bytes", failsEveryWay(ascii(tooLong)));
    // No line end at all: refused at byte 107, not buffered for ever.
    assertEquals("v1 header longer than 107 bytes", failsEveryWay(ascii(prefix + "x".repeat(200))));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "PROXY TCP4 192.0.2.10 198.51.100.1 40000 25\n",
      "PROXY TCP4 192.0.2.10 198.51.100.1 40000 25\rX\r\n",
      "PROXY  TCP4 192.0.2.10 198.51.100.1 40000 25\r\n",
      "PROXY TCP4 192.0.2.10  198.51.100.1 40000 25\r\n",
      "PROXY TCP4 192.0.2.10 198.51.100.1 40000 25 \r\n",
      "PROXY TCP4 192.0.2.10 198.51.100.1 40000\r\n",
      "PROXY TCP4 192.0.2.10 198.51.100.1 40000 25 26\r\n",
      "PROXY TCP5 192.0.2.10 198.51.100.1 40000 25\r\n",
      "PROXY tcp4 192.0.2.10 198.51.100.1 40000 25\r\n",
      "PROXY TCP4 2001:db8::1 198.51.100.1 40000 25\r\n",
      "PROXY TCP6 192.0.2.10 2001:db8::1 40000 25\r\n",
      "PROXY TCP4 192.0.2.256 198.51.100.1 40000 25\r\n",
      "PROXY TCP4 192.0.2.010 198.51.100.1 40000 25\r\n",
      "PROXY TCP4 192.0.2 198.51.100.1 40000 25\r\n",
      "PROXY TCP4 client.example 198.51.100.1 40000 25\r\n",
      "PROXY TCP4 192.0.2.10 198.51.100.1 65536 25\r\n",
      "PROXY TCP4 192.0.2.10 198.51.100.1 040000 25\r\n",
      "PROXY TCP4 192.0.2.10 198.51.100.1 -1 25\r\n",
      "PROXY TCP4 192.0.2.10 198.51.100.1 +4 25\r\n",
      "PROXY TCP4 192.0.2.10 198.51.100.1 4\t25\r\n",
      "PROXY UNKNOWNX\r\n",
      "PROXY\r\n",
      "PROXYTCP4 192.0.2.10 198.51.100.1 40000 25\r\n",
      "proxy TCP4 192.0.2.10 198.51.100.1 40000 25\r\n",
      "EHLO client.example\r\n",
      "\u0016\u0003\u0001\u0000",
  })
  void malformedV1IsRefusedHoweverItIsSplit(String line) {
    failsEveryWay(ascii(line));
  }

  @Test
  void v1EightBitAndNulBytesAreRefused() {
    failsEveryWay(ascii("PROXY TCP4 192.0.2.10 198.51.100.1 40000 2\u00e95\r\n"));
    failsEveryWay(ascii("PROXY TCP4 192.0.2.10 198.51.100.1 40000 2\u00005\r\n"));
  }

  // ---------------------------------------------------------------------------------------------
  // v2

  private static final byte[] SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

  /** A v2 header: signature, version/command, family, the stated length of {@code body}, body. */
  private static byte[] v2(int versionCommand, int family, int statedLength, byte[] body) {
    ByteBuffer b = ByteBuffer.allocate(16 + body.length);
    b.put(SIGNATURE).put((byte) versionCommand).put((byte) family).putShort((short) statedLength).put(body);
    return b.array();
  }

  private static byte[] v2(int versionCommand, int family, byte[] body) {
    return v2(versionCommand, family, body.length, body);
  }

  private static byte[] ipv4Block(int a, int b, int sport, int dport) {
    return ByteBuffer.allocate(12).putInt(a).putInt(b).putShort((short) sport).putShort((short) dport).array();
  }

  private static byte[] tlv(int type, byte[] value) {
    return ByteBuffer.allocate(3 + value.length).put((byte) type).putShort((short) value.length).put(value).array();
  }

  private static final int CLIENT = 0xC000020A; // 192.0.2.10
  private static final int PROXY = 0xC6336401; // 198.51.100.1

  @Test
  void v2Tcp4GivesTheClientWithItsTlvsAndLeavesTheClientHello() throws Exception {
    byte[] header = v2(0x21, 0x11, concat(ipv4Block(CLIENT, PROXY, 40000, 465),
        tlv(0x02, ascii("mx.example")), tlv(0x04, new byte[0])));
    ProxyHeader h = decodesEveryWay(header, CLIENT_HELLO);
    assertEquals(2, h.version());
    assertEquals("192.0.2.10", h.sourceAddress());
    assertEquals(40000, h.sourcePort());
    assertEquals("198.51.100.1", h.destinationAddress());
    assertEquals(465, h.destinationPort());
    assertEquals(List.of(0x02, 0x04), h.tlvs().stream().map(ProxyHeader.Tlv::type).toList());
    assertArrayEquals(ascii("mx.example"), h.tlvs().get(0).value());
  }

  @Test
  void v2Tcp6() throws Exception {
    byte[] src = new byte[16];
    src[0] = 0x20;
    src[1] = 0x01;
    src[2] = 0x0d;
    src[3] = (byte) 0xb8;
    src[15] = 0x10;
    byte[] dst = src.clone();
    dst[15] = 0x01;
    byte[] block = ByteBuffer.allocate(36).put(src).put(dst).putShort((short) 50000).putShort((short) 587).array();
    ProxyHeader h = decodesEveryWay(v2(0x21, 0x21, block), TAIL);
    assertEquals("2001:db8:0:0:0:0:0:10", h.sourceAddress());
    assertEquals(50000, h.sourcePort());
    assertEquals("2001:db8:0:0:0:0:0:1", h.destinationAddress());
    assertEquals(587, h.destinationPort());
  }

  @Test
  void v2LocalAsHaproxyHealthChecksSendItKeepsTheTcpPeer() throws Exception {
    assertFalse(decodesEveryWay(v2(0x20, 0x00, new byte[0]), TAIL).hasAddresses());
    // LOCAL discards the block whatever it holds, family included.
    assertFalse(decodesEveryWay(v2(0x20, 0x11, ipv4Block(CLIENT, PROXY, 1, 2)), TAIL).hasAddresses());
  }

  @Test
  void v2UnspecifiedFamilyKeepsTheTcpPeer() throws Exception {
    assertFalse(decodesEveryWay(v2(0x21, 0x00, new byte[0]), TAIL).hasAddresses());
  }

  @Test
  void v2WithAMatchingCrc32cIsAccepted() throws Exception {
    byte[] header = v2(0x21, 0x11, concat(ipv4Block(CLIENT, PROXY, 40000, 25), tlv(0x03, new byte[4])));
    CRC32C crc = new CRC32C();
    crc.update(header);
    ByteBuffer.wrap(header).putInt(header.length - 4, (int) crc.getValue());
    assertEquals("192.0.2.10", decodesEveryWay(header, TAIL).sourceAddress());
    header[header.length - 1] ^= 1;
    assertEquals("v2 CRC32C does not match the header", failsEveryWay(header));
  }

  @Test
  void v2SslTlvWithSubTlvsIsAccepted() throws Exception {
    byte[] ssl = concat(new byte[] {0x01, 0, 0, 0, 0}, tlv(0x21, ascii("TLSv1.3")));
    ProxyHeader h = decodesEveryWay(v2(0x21, 0x11, concat(ipv4Block(CLIENT, PROXY, 1, 25), tlv(0x20, ssl))), TAIL);
    assertEquals(0x20, h.tlvs().get(0).type());
  }

  @Test
  void v2TlvRunningPastTheHeaderIsMalformed() {
    // The TLV says 200 bytes; the header holds 5 after the TLV's own 3.
    byte[] lying = ByteBuffer.allocate(8).put((byte) 0x05).putShort((short) 200).put(new byte[5]).array();
    assertEquals("v2 TLV 0x5 of 200 bytes runs past the end of the header",
        failsEveryWay(concat(v2(0x21, 0x11, concat(ipv4Block(CLIENT, PROXY, 1, 25), lying)), TAIL)));
  }

  @Test
  void v2SubTlvRunningPastItsSslTlvIsMalformed() {
    byte[] ssl = concat(new byte[] {0x01, 0, 0, 0, 0}, new byte[] {0x21, 0x00, 0x09, 'T', 'L', 'S'});
    byte[] header = v2(0x21, 0x11, concat(ipv4Block(CLIENT, PROXY, 1, 25), tlv(0x20, ssl), tlv(0x04, new byte[9])));
    assertEquals("v2 TLV 0x21 of 9 bytes runs past the end of the header", failsEveryWay(header));
  }

  @Test
  void v2TruncatedTlvIsMalformed() {
    byte[] header = v2(0x21, 0x11, concat(ipv4Block(CLIENT, PROXY, 1, 25), new byte[] {0x05, 0x00}));
    assertEquals("v2 TLV at byte 28 is truncated", failsEveryWay(header));
  }

  @Test
  void v2LengthShorterThanTheAddressesIsMalformed() {
    byte[] header = v2(0x21, 0x11, Arrays.copyOf(ipv4Block(CLIENT, PROXY, 1, 25), 11));
    assertEquals("v2 length 11 is shorter than the 12 bytes of its addresses", failsEveryWay(header));
    byte[] v6 = v2(0x21, 0x21, ipv4Block(CLIENT, PROXY, 1, 25));
    assertEquals("v2 length 12 is shorter than the 36 bytes of its addresses", failsEveryWay(v6));
  }

  @Test
  void v2LongerThanTheCapIsRefusedAtItsFixedPartWithoutWaitingForTheRest() {
    int stated = ProxyHeaderDecoder.V2_MAX_LENGTH - 16 + 1;
    // Only the 16 fixed bytes are sent: the refusal cannot depend on the rest arriving.
    assertEquals("v2 header of 1025 bytes is longer than 1024", failsEveryWay(v2(0x21, 0x11, stated, new byte[0])));
    assertEquals("v2 header of 65551 bytes is longer than 1024", failsEveryWay(v2(0x21, 0x11, 0xffff, new byte[0])));
  }

  @Test
  void v2AtTheCapIsAccepted() throws Exception {
    byte[] padding = tlv(0x04, new byte[ProxyHeaderDecoder.V2_MAX_LENGTH - 16 - 12 - 3]);
    byte[] header = v2(0x21, 0x11, concat(ipv4Block(CLIENT, PROXY, 1, 25), padding));
    assertEquals(ProxyHeaderDecoder.V2_MAX_LENGTH, header.length);
    assertEquals("192.0.2.10", decodesEveryWay(header, TAIL).sourceAddress());
  }

  @Test
  void v2BadVersionCommandOrFamilyIsMalformed() {
    byte[] block = ipv4Block(CLIENT, PROXY, 1, 25);
    assertEquals("v2 header has version 1", failsEveryWay(v2(0x11, 0x11, block)));
    assertEquals("v2 command 0x2 is neither LOCAL nor PROXY", failsEveryWay(v2(0x22, 0x11, block)));
    assertEquals("v2 header is for a UDP datagram, not an SMTP stream", failsEveryWay(v2(0x21, 0x12, block)));
    assertEquals("v2 header names UNIX sockets, which carry no IP address",
        failsEveryWay(v2(0x21, 0x31, new byte[216])));
    assertEquals("v2 address family 0x41 is unknown", failsEveryWay(v2(0x21, 0x41, block)));
  }

  @Test
  void v2SignatureMismatchIsMalformedAtTheFirstWrongByte() {
    byte[] header = v2(0x21, 0x11, ipv4Block(CLIENT, PROXY, 1, 25));
    for (int k = 1; k < 12; k++) {
      byte[] broken = header.clone();
      broken[k] ^= 0x40;
      assertEquals("v2 signature mismatch at byte " + k, failsEveryWay(broken));
    }
  }

  @Test
  void nothingIsDecidedBeforeTheHeaderIsComplete() throws Exception {
    byte[] header = ascii("PROXY TCP4 192.0.2.10 198.51.100.1 40000 25\r\n");
    ProxyHeaderDecoder d = new ProxyHeaderDecoder();
    assertEquals(header.length - 1, d.feed(header, 0, header.length - 1));
    assertNull(d.header());
    assertEquals(1, d.feed(header, header.length - 1, 1));
    assertNotNull(d.header());
    // Once complete the decoder takes nothing more.
    assertEquals(0, d.feed(TAIL, 0, TAIL.length));
  }
}
