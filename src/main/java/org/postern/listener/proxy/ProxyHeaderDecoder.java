package org.postern.listener.proxy;

import org.postern.net.IpAddresses;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Reads the PROXY protocol header (HAProxy's proxy-protocol.txt, v1 and v2) that a load balancer
 * in {@code hosts_proxy} sends before anything else on a connection, and not one byte more: what
 * follows (SMTP commands, a TLS ClientHello) belongs to the connection, so {@link #feed} says how
 * many of the bytes it was given were header. Splitting the input at any byte offset gives the same
 * result, so TCP segmentation cannot change the outcome.
 *
 * <p>Strict on purpose: the header decides which address every ACL, limit and log line sees. v1 is
 * one line of at most 107 bytes with single spaces, {@code TCP4}/{@code TCP6} addresses of their
 * family and decimal ports; v2 has its 12-byte signature, version 2, command LOCAL or PROXY, a TCP
 * family whose address block fits the stated length, and TLVs that each end inside the header (a
 * length is never trusted before it is checked). Anything else is {@link MalformedHeaderException
 * malformed}: the caller closes the connection without a reply.
 *
 * <p>Not thread-safe: one decoder per connection.
 */
public final class ProxyHeaderDecoder {
  /** proxy-protocol.txt 2.1: "a receiver ... must not read more than 107 characters" for a v1 line. */
  public static final int V1_MAX_LENGTH = 107;
  /**
   * The longest v2 header accepted, fixed part included. The addresses take at most 216 bytes
   * (AF_UNIX); HAProxy's optional TLVs (ALPN, authority, unique id, SSL facts) fit easily in the rest.
   */
  public static final int V2_MAX_LENGTH = 1024;

  private static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
  private static final int V2_FIXED = 16;
  private static final int TLV_CRC32C = 0x03;
  private static final int TLV_SSL = 0x20;

  private byte[] buf = new byte[V2_FIXED];
  private int size;
  /** v2: the header's whole length once its fixed part is read. */
  private int needed;
  private ProxyHeader header;

  /** The header is not a valid PROXY protocol header; the message says why (for the log). */
  public static final class MalformedHeaderException extends Exception {
    MalformedHeaderException(String reason) {
      super(reason);
    }
  }

  /**
   * Takes header bytes from {@code data[offset, offset + length)}.
   *
   * @return how many of those bytes were header; once {@link #header()} is set, the rest follow it
   * @throws MalformedHeaderException at the first byte that cannot be part of a valid header
   */
  public int feed(byte[] data, int offset, int length) throws MalformedHeaderException {
    int k = 0;
    while (k < length && header == null) {
      append(data[offset + k]);
      k++;
      if (buf[0] == 'P') {
        v1Byte();
      } else if (buf[0] == V2_SIGNATURE[0]) {
        v2Byte();
      } else {
        throw new MalformedHeaderException("not a PROXY protocol header (first byte 0x"
            + Integer.toHexString(buf[0] & 0xff) + ")");
      }
    }
    return k;
  }

  /** The header, once complete; null before. */
  public ProxyHeader header() {
    return header;
  }

  private void append(byte b) {
    if (size == buf.length) {
      buf = Arrays.copyOf(buf, Math.min(buf.length * 2, Math.max(V1_MAX_LENGTH, V2_MAX_LENGTH)));
    }
    buf[size++] = b;
  }

  private void v1Byte() throws MalformedHeaderException {
    byte b = buf[size - 1];
    if (size <= V1_PREFIX.length && b != V1_PREFIX[size - 1]) {
      throw new MalformedHeaderException("v1 header does not start with \"PROXY \"");
    }
    boolean afterCr = size >= 2 && buf[size - 2] == '\r';
    if (b == '\n') {
      if (!afterCr) {
        throw new MalformedHeaderException("v1 header ends in a bare LF");
      }
      header = v1(new String(buf, 0, size - 2, StandardCharsets.US_ASCII));
      return;
    }
    if (afterCr) {
      throw new MalformedHeaderException("v1 header has a CR not followed by LF");
    }
    int c = b & 0xff;
    if (c < 0x20 && c != '\r' || c > 0x7e) {
      throw new MalformedHeaderException("v1 header has a control or non-ASCII byte");
    }
    if (size >= V1_MAX_LENGTH) {
      throw new MalformedHeaderException("v1 header longer than " + V1_MAX_LENGTH + " bytes");
    }
  }

  private static ProxyHeader v1(String line) throws MalformedHeaderException {
    // "UNKNOWN": the receiver must ignore the rest of the line and use the real connection's addresses.
    if (line.equals("PROXY UNKNOWN") || line.startsWith("PROXY UNKNOWN ")) {
      return ProxyHeader.withoutAddresses(1);
    }
    String[] f = line.split(" ", -1);
    if (f.length != 6) {
      throw new MalformedHeaderException("v1 header needs PROXY, protocol, two addresses and two ports,"
          + " separated by single spaces");
    }
    boolean v6 = switch (f[1]) {
      case "TCP4" -> false;
      case "TCP6" -> true;
      default -> throw new MalformedHeaderException("v1 protocol must be TCP4, TCP6 or UNKNOWN");
    };
    return new ProxyHeader(1, v1Address(f[2], v6), v1Port(f[4]), v1Address(f[3], v6), v1Port(f[5]), List.of());
  }

  private static String v1Address(String text, boolean v6) throws MalformedHeaderException {
    byte[] ip = text.indexOf(':') >= 0 == v6 ? IpAddresses.parseIp(text) : null;
    // Leading zeros are octal in some parsers: refused rather than guessed at.
    if (ip == null || !v6 && text.matches("(.*\\.)?0\\d.*")) {
      throw new MalformedHeaderException("v1 address \"" + text + "\" is not an " + (v6 ? "IPv6" : "IPv4")
          + " address");
    }
    return format(ip);
  }

  private static int v1Port(String text) throws MalformedHeaderException {
    if (!text.matches("0|[1-9]\\d{0,4}") || Integer.parseInt(text) > 65535) {
      throw new MalformedHeaderException("v1 port \"" + text + "\" is not a port number");
    }
    return Integer.parseInt(text);
  }

  private void v2Byte() throws MalformedHeaderException {
    int at = size - 1;
    byte b = buf[at];
    if (at < V2_SIGNATURE.length) {
      if (b != V2_SIGNATURE[at]) {
        throw new MalformedHeaderException("v2 signature mismatch at byte " + at);
      }
    } else if (at == 12) {
      if ((b & 0xf0) != 0x20) {
        throw new MalformedHeaderException("v2 header has version " + ((b & 0xf0) >> 4));
      }
      if ((b & 0x0f) > 1) {
        throw new MalformedHeaderException("v2 command 0x" + Integer.toHexString(b & 0x0f) + " is neither LOCAL nor PROXY");
      }
    } else if (at == 15) {
      needed = V2_FIXED + u16(14);
      if (needed > V2_MAX_LENGTH) {
        throw new MalformedHeaderException("v2 header of " + needed + " bytes is longer than " + V2_MAX_LENGTH);
      }
    }
    if (size >= V2_FIXED && size == needed) {
      header = v2();
    }
  }

  private ProxyHeader v2() throws MalformedHeaderException {
    // LOCAL (health checks): use the real connection's addresses and discard the block, family included.
    if ((buf[12] & 0x0f) == 0) {
      return ProxyHeader.withoutAddresses(2);
    }
    int family = buf[13] & 0xff;
    int addresses = switch (family) {
      case 0x00 -> 0;
      case 0x11 -> 12;
      case 0x21 -> 36;
      case 0x12, 0x22 -> throw new MalformedHeaderException("v2 header is for a UDP datagram, not an SMTP stream");
      case 0x31, 0x32 -> throw new MalformedHeaderException("v2 header names UNIX sockets, which carry no IP address");
      default -> throw new MalformedHeaderException("v2 address family 0x" + Integer.toHexString(family) + " is unknown");
    };
    if (needed - V2_FIXED < addresses) {
      throw new MalformedHeaderException("v2 length " + (needed - V2_FIXED) + " is shorter than the "
          + addresses + " bytes of its addresses");
    }
    if (family == 0x00) {
      // AF_UNSPEC: as for LOCAL, the receiver uses the real connection's addresses and discards the block.
      return ProxyHeader.withoutAddresses(2);
    }
    List<ProxyHeader.Tlv> tlvs = tlvs(V2_FIXED + addresses, needed, true);
    int length = family == 0x11 ? 4 : 16;
    int src = V2_FIXED;
    int dst = src + length;
    int ports = dst + length;
    return new ProxyHeader(2, format(Arrays.copyOfRange(buf, src, dst)), u16(ports),
        format(Arrays.copyOfRange(buf, dst, ports)), u16(ports + 2), tlvs);
  }

  /** The TLVs in {@code buf[from, to)}: each must end by {@code to}; the SSL TLV's sub-TLVs likewise. */
  private List<ProxyHeader.Tlv> tlvs(int from, int to, boolean top) throws MalformedHeaderException {
    List<ProxyHeader.Tlv> out = new ArrayList<>();
    int at = from;
    while (at < to) {
      if (to - at < 3) {
        throw new MalformedHeaderException("v2 TLV at byte " + at + " is truncated");
      }
      int type = buf[at] & 0xff;
      int length = u16(at + 1);
      int value = at + 3;
      if (length > to - value) {
        throw new MalformedHeaderException("v2 TLV 0x" + Integer.toHexString(type) + " of " + length
            + " bytes runs past the end of the header");
      }
      if (top && type == TLV_CRC32C) {
        checkCrc(value, length);
      } else if (top && type == TLV_SSL) {
        // client (1 byte) and verify (4 bytes), then sub-TLVs within the value.
        if (length < 5) {
          throw new MalformedHeaderException("v2 SSL TLV of " + length + " bytes is shorter than 5");
        }
        tlvs(value + 5, value + length, false);
      }
      out.add(new ProxyHeader.Tlv(type, Arrays.copyOfRange(buf, value, value + length)));
      at = value + length;
    }
    return out;
  }

  /** proxy-protocol.txt 2.2.5: CRC32c of the whole header with the checksum field zeroed. */
  private void checkCrc(int value, int length) throws MalformedHeaderException {
    if (length != 4) {
      throw new MalformedHeaderException("v2 CRC32C TLV of " + length + " bytes, not 4");
    }
    byte[] copy = Arrays.copyOf(buf, needed);
    Arrays.fill(copy, value, value + 4, (byte) 0);
    CRC32C crc = new CRC32C();
    crc.update(copy, 0, needed);
    long stated = ((long) u16(value) << 16) | u16(value + 2);
    if (crc.getValue() != stated) {
      throw new MalformedHeaderException("v2 CRC32C does not match the header");
    }
  }

  private int u16(int at) {
    return (buf[at] & 0xff) << 8 | buf[at + 1] & 0xff;
  }

  /** The form Vert.x gives a TCP peer's address, so a proxied client looks like a direct one. */
  private static String format(byte[] ip) {
    try {
      return InetAddress.getByAddress(IpAddresses.normalize(ip)).getHostAddress();
    } catch (UnknownHostException e) {
      throw new IllegalStateException("an address of " + ip.length + " bytes", e);
    }
  }
}
