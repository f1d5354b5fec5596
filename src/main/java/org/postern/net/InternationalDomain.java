package org.postern.net;

import com.ibm.icu.text.IDNA;

import java.util.Locale;

/**
 * IDNA2008 (RFC 5890-5893) conversion of domain names between U-labels ({@code bücher.example})
 * and A-labels ({@code xn--bcher-kva.example}), for SMTPUTF8 (RFC 6531 3.2: a domain may be sent
 * in either form, and both name the same domain).
 *
 * <p>{@link java.net.IDN} implements IDNA2003 only (it maps {@code ß} to {@code ss}, accepts
 * symbols IDNA2008 forbids and checks neither the Bidi nor the ContextJ rules), so ICU4J's UTS #46
 * processor is used with nontransitional processing (IDNA2008's deviation characters kept) and
 * CHECK_BIDI / CHECK_CONTEXTJ (RFC 5893, RFC 5892 Appendix A). Stateless and thread-safe.
 */
public final class InternationalDomain {
  private static final IDNA IDNA2008 = IDNA.getUTS46Instance(IDNA.NONTRANSITIONAL_TO_ASCII
      | IDNA.NONTRANSITIONAL_TO_UNICODE | IDNA.CHECK_BIDI | IDNA.CHECK_CONTEXTJ | IDNA.USE_STD3_RULES);

  private InternationalDomain() {
  }

  /**
   * The A-label form of a domain, lower-cased; ASCII names without {@code xn--} labels come back
   * lower-cased and unchanged.
   *
   * @param domain a domain in U-label or A-label form (no address literal)
   * @return the ASCII form, or null when the domain is not valid under IDNA2008
   */
  public static String toAscii(String domain) {
    if (isPlainAscii(domain)) {
      return domain.toLowerCase(Locale.ROOT);
    }
    IDNA.Info info = new IDNA.Info();
    StringBuilder out = IDNA2008.nameToASCII(domain, new StringBuilder(), info);
    return info.hasErrors() || toUnicode(out.toString()) == null ? null : out.toString();
  }

  /**
   * The U-label form of a domain, lower-cased and NFC-normalised: the form domain lists compare.
   *
   * @param domain a domain in U-label or A-label form (no address literal)
   * @return the Unicode form, or null when the domain is not valid under IDNA2008
   */
  public static String toUnicode(String domain) {
    if (isPlainAscii(domain)) {
      return domain.toLowerCase(Locale.ROOT);
    }
    IDNA.Info info = new IDNA.Info();
    StringBuilder out = IDNA2008.nameToUnicode(domain, new StringBuilder(), info);
    return info.hasErrors() || !isIdna2008(out) ? null : out.toString();
  }

  /**
   * UTS #46 still accepts what IDNA2003 allowed and IDNA2008 does not (symbols such as U+2665,
   * "NV8" in its table). RFC 5892 2.1-2.3 derive PVALID from these general categories; the
   * CONTEXTJ joiners are judged by ICU (CHECK_CONTEXTJ) and the few CONTEXTO and exceptional
   * code points of RFC 5892 2.6 and Appendix A are let through for ICU's mapping to have decided.
   */
  private static boolean isIdna2008(CharSequence unicode) {
    return unicode.codePoints().allMatch(c -> c == '.' || c == '-' || c < 0x80 && Character.isLetterOrDigit(c)
        || CONTEXT_AND_EXCEPTIONS.indexOf(c) >= 0 || switch (Character.getType(c)) {
          case Character.LOWERCASE_LETTER, Character.OTHER_LETTER, Character.MODIFIER_LETTER,
               Character.NON_SPACING_MARK, Character.COMBINING_SPACING_MARK, Character.DECIMAL_DIGIT_NUMBER -> true;
          default -> false;
        });
  }

  /** ZWNJ, ZWJ, MIDDLE DOT, GREEK KERAIA, HEBREW GERESH and GERSHAYIM, KATAKANA MIDDLE DOT (RFC 5892). */
  private static final String CONTEXT_AND_EXCEPTIONS = "\u200c\u200d\u00b7\u0375\u05f3\u05f4\u30fb";

  /**
   * The form domain lists compare: U-labels where the name is a valid IDN, otherwise the name
   * lower-cased as it is (a regex item or an address literal must still see something).
   *
   * @param domain any domain or list item text
   * @return the comparison key
   */
  public static String comparable(String domain) {
    String unicode = toUnicode(domain);
    return unicode != null ? unicode : domain.toLowerCase(Locale.ROOT);
  }

  /** ASCII with no A-label: nothing for IDNA to do (the common case, kept off ICU's path). */
  private static boolean isPlainAscii(String domain) {
    for (int i = 0; i < domain.length(); i++) {
      if (domain.charAt(i) >= 0x80) {
        return false;
      }
    }
    return !domain.regionMatches(true, 0, "xn--", 0, 4) && !domain.toLowerCase(Locale.ROOT).contains(".xn--");
  }
}
