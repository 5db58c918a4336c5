package dev.robots.robots;

import dev.robots.http.Problem;
import java.lang.Character.UnicodeScript;
import java.text.Normalizer;
import java.util.EnumSet;
import java.util.Set;

/**
 * The rule of a robot's name, which the OpenAPI description states in two sentences:
 *
 * <ol>
 *   <li>The name, in NFC (one spelling per name: "é" as one code point or as "e" and a combining accent is the same
 *       name) and trimmed of white space at both ends (Unicode's, no-break spaces too), is 1 to 100 code points with
 *       at least one visible letter, number, punctuation mark or symbol, no combining mark first, and no control,
 *       surrogate, private-use, noncharacter, line or paragraph separator.
 *   <li>A character that shows nothing by itself (Unicode's Default_Ignorable_Code_Point, any other format
 *       character, the Braille blank, the null notehead) is refused but where writing uses it, never first: see
 *       {@link #usedThere}.
 * </ol>
 *
 * <p>Everything is decided on Unicode properties ({@link Character} has General_Category, Script, the emoji
 * properties and Ideographic), not on lists of look-alikes; the few properties Java lacks are spelt out below from
 * the Unicode 16 data files, which is the version of Java 25. An invisible character anywhere else would make the
 * name look exactly like another one ("R2D2" followed by U+FE0F shows as "R2D2").
 */
final class RobotNames {
    static final int MAX_LENGTH = 100;

    private static final int ZWSP = 0x200B;
    private static final int ZWNJ = 0x200C;
    private static final int ZWJ = 0x200D;
    private static final int LRM = 0x200E;
    private static final int RLM = 0x200F;
    private static final int ALM = 0x061C;
    private static final int CGJ = 0x034F;
    private static final int VS15 = 0xFE0E;
    private static final int VS16 = 0xFE0F;
    private static final int KEYCAP = 0x20E3;
    private static final int BRAILLE_BLANK = 0x2800;
    private static final int NULL_NOTEHEAD = 0x1D159;
    private static final int BLACK_FLAG = 0x1F3F4;
    private static final int CANCEL_TAG = 0xE007F;

    /**
     * Scripts that shape with ZWJ and ZWNJ: the cursive ones (a Joining_Type in ArabicShaping.txt), where the
     * joiners pick a letter's joining form, and those with a virama (Canonical_Combining_Class 9), where they pick a
     * conjunct, a half form or a chillu. Elsewhere (Latin, Greek, Cyrillic, Hebrew, CJK...) a joiner changes nothing.
     */
    private static final Set<UnicodeScript> SHAPED_BY_JOINERS = EnumSet.of(
            // cursive
            UnicodeScript.ARABIC, UnicodeScript.SYRIAC, UnicodeScript.NKO, UnicodeScript.MANDAIC,
            UnicodeScript.MONGOLIAN, UnicodeScript.MANICHAEAN, UnicodeScript.PSALTER_PAHLAVI, UnicodeScript.PHAGS_PA,
            UnicodeScript.SOGDIAN, UnicodeScript.OLD_UYGHUR, UnicodeScript.HANIFI_ROHINGYA, UnicodeScript.ADLAM,
            UnicodeScript.CHORASMIAN,
            // with a virama
            UnicodeScript.AHOM, UnicodeScript.BALINESE, UnicodeScript.BATAK, UnicodeScript.BENGALI,
            UnicodeScript.BHAIKSUKI, UnicodeScript.BRAHMI, UnicodeScript.CHAKMA, UnicodeScript.DEVANAGARI,
            UnicodeScript.DIVES_AKURU, UnicodeScript.DOGRA, UnicodeScript.GRANTHA, UnicodeScript.GUJARATI,
            UnicodeScript.GUNJALA_GONDI, UnicodeScript.GURMUKHI, UnicodeScript.GURUNG_KHEMA, UnicodeScript.HANUNOO,
            UnicodeScript.JAVANESE, UnicodeScript.KAITHI, UnicodeScript.KANNADA, UnicodeScript.KAWI,
            UnicodeScript.KHAROSHTHI, UnicodeScript.KHMER, UnicodeScript.KHOJKI, UnicodeScript.KHUDAWADI,
            UnicodeScript.KIRAT_RAI, UnicodeScript.LAO, UnicodeScript.MALAYALAM, UnicodeScript.MASARAM_GONDI,
            UnicodeScript.MEETEI_MAYEK, UnicodeScript.MODI, UnicodeScript.MYANMAR, UnicodeScript.NANDINAGARI,
            UnicodeScript.NEWA, UnicodeScript.ORIYA, UnicodeScript.REJANG, UnicodeScript.SAURASHTRA,
            UnicodeScript.SHARADA, UnicodeScript.SIDDHAM, UnicodeScript.SINHALA, UnicodeScript.SOYOMBO,
            UnicodeScript.SUNDANESE, UnicodeScript.SYLOTI_NAGRI, UnicodeScript.TAGALOG, UnicodeScript.TAI_THAM,
            UnicodeScript.TAKRI, UnicodeScript.TAMIL, UnicodeScript.TELUGU, UnicodeScript.THAI,
            UnicodeScript.TIBETAN, UnicodeScript.TIFINAGH, UnicodeScript.TIRHUTA, UnicodeScript.TULU_TIGALARI,
            UnicodeScript.ZANABAZAR_SQUARE);

    /**
     * Scripts written without spaces between words (Line_Break=SA in LineBreak.txt), where a zero-width space marks
     * where a word ends so that lines break there.
     */
    private static final Set<UnicodeScript> WITHOUT_SPACES = EnumSet.of(UnicodeScript.THAI, UnicodeScript.LAO,
            UnicodeScript.MYANMAR, UnicodeScript.KHMER, UnicodeScript.TAI_LE, UnicodeScript.NEW_TAI_LUE,
            UnicodeScript.TAI_THAM, UnicodeScript.TAI_VIET, UnicodeScript.AHOM);

    /** Scripts with letters that VS1..VS14 select a standardized variant of (StandardizedVariants.txt). */
    private static final Set<UnicodeScript> WITH_STANDARDIZED_VARIANTS = EnumSet.of(UnicodeScript.MYANMAR,
            UnicodeScript.PHAGS_PA, UnicodeScript.MANICHAEAN, UnicodeScript.EGYPTIAN_HIEROGLYPHS);

    /**
     * The tag specs of RGI_Emoji_Tag_Sequence (emoji-sequences.txt): the subdivision flags of England, Scotland and
     * Wales. Any other tag spec, valid subdivision or not, shows as the plain black flag it follows.
     */
    private static final Set<String> RGI_FLAG_TAGS = Set.of("gbeng", "gbsct", "gbwls");

    private RobotNames() {
    }

    /** The valid, normalised and trimmed name, or a 400 {@link Problem} that says which part of the rule it breaks. */
    static String valid(String raw) {
        if (raw.codePoints().anyMatch(c -> Character.getType(c) == Character.SURROGATE)) {
            throw Problem.badRequest("name must be valid Unicode text (it has an unpaired surrogate).");
        }
        String name = trim(Normalizer.normalize(raw, Normalizer.Form.NFC));
        // Before the blank check: a name of control characters alone ({"name":"\u0000"}) was called blank, which
        // says nothing of what to change.
        var control = name.codePoints().filter(Character::isISOControl).findFirst();
        if (control.isPresent()) {
            throw Problem.badRequest("name must not contain control characters (it has U+%04X)."
                    .formatted(control.getAsInt()));
        }
        if (name.codePoints().noneMatch(RobotNames::visible)) {
            throw Problem.badRequest("name must not be blank (it has no visible character: no letter, digit, "
                    + "punctuation mark or symbol).");
        }
        int length = name.codePointCount(0, name.length());
        if (length > MAX_LENGTH) {
            throw Problem.badRequest("name must be at most %d characters, not %d.".formatted(MAX_LENGTH, length));
        }
        int first = name.codePointAt(0);
        if (isMark(first) && !invisible(first)) {
            throw Problem.badRequest(("name must not begin with a combining mark (U+%04X): it has no character to "
                    + "sit on.").formatted(first));
        }
        int[] points = name.codePoints().toArray();
        for (int i = 0; i < points.length; i++) {
            int c = points[i];
            if (Character.getType(c) == Character.PRIVATE_USE || noncharacter(c)) {
                throw Problem.badRequest(("name must not contain private-use characters or noncharacters (it has "
                        + "U+%04X): they show nothing, or whatever the reader's font puts there.").formatted(c));
            }
            if (Character.getType(c) == Character.LINE_SEPARATOR
                    || Character.getType(c) == Character.PARAGRAPH_SEPARATOR) {
                throw Problem.badRequest("name must not contain format or separator characters (it has U+%04X)."
                        .formatted(c));
            }
            if (invisible(c) && !usedThere(points, i)) {
                throw Problem.badRequest("name has an invisible character, U+%04X, where writing does not use it: %s."
                        .formatted(c, whereItGoes(c)));
            }
        }
        return name;
    }

    /**
     * What shows nothing by itself: Default_Ignorable_Code_Point (which Java does not have: Cf, Variation_Selector
     * and Other_Default_Ignorable_Code_Point of PropList.txt), the format characters it leaves out (the Egyptian
     * hieroglyph controls and Arabic number signs are drawn only with what they act on), and two symbols whose glyph
     * is empty.
     */
    private static boolean invisible(int c) {
        return Character.getType(c) == Character.FORMAT || variationSelector(c) || c == CGJ
                || c == 0x115F || c == 0x1160 || c == 0x17B4 || c == 0x17B5 || c == 0x2065 || c == 0x3164
                || c == 0xFFA0 || (c >= 0xFFF0 && c <= 0xFFF8) || (c >= 0xE0000 && c <= 0xE0FFF)
                || c == BRAILLE_BLANK || c == NULL_NOTEHEAD;
    }

    private static boolean variationSelector(int c) {
        return (c >= 0x180B && c <= 0x180D) || c == 0x180F || (c >= 0xFE00 && c <= 0xFE0F)
                || (c >= 0xE0100 && c <= 0xE01EF);
    }

    /** A letter, digit, punctuation mark or symbol that shows something, or a character not assigned yet. */
    private static boolean visible(int c) {
        if (invisible(c)) {
            return false;
        }
        return switch (Character.getType(c)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER, Character.DECIMAL_DIGIT_NUMBER,
                 Character.LETTER_NUMBER, Character.OTHER_NUMBER, Character.CONNECTOR_PUNCTUATION,
                 Character.DASH_PUNCTUATION, Character.START_PUNCTUATION, Character.END_PUNCTUATION,
                 Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                 Character.OTHER_PUNCTUATION, Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL,
                 Character.MODIFIER_SYMBOL, Character.OTHER_SYMBOL -> true;
            // So that an emoji newer than this JVM is not refused.
            case Character.UNASSIGNED -> !noncharacter(c);
            default -> false;
        };
    }

    /**
     * Whether the invisible character {@code points[i]} is one that writing uses there, and so changes what is shown:
     *
     * <ul>
     *   <li>a variation selector right after a character it has a variant for: VS16 (emoji style) after an emoji
     *       whose default is text, VS15 (text style) after an emoji, either inside a keycap ("1️⃣"); VS1..VS14 after
     *       a math symbol, an ideograph or a letter of a script with standardized variants; a Mongolian one after a
     *       Mongolian letter; VS17 and up (the Ideographic Variation Database) after an ideograph;
     *   <li>ZWJ or ZWNJ between two letters of a script that shapes with them, ZWJ also at the end of such a word
     *       (Malayalam chillus, an Arabic letter's joining form), and ZWJ between the emoji of a ZWJ sequence;
     *   <li>the combining grapheme joiner before a combining mark (it keeps the marks in their order);
     *   <li>a zero-width space between two letters of a script written without spaces (Khmer, Thai...);
     *   <li>a left-to-right, right-to-left or Arabic letter mark in a name that mixes both directions, between two
     *       characters that are not invisible themselves (where a reader would otherwise see the parts reordered);
     *   <li>the tags of an RGI subdivision flag after a black flag (Scotland's);
     *   <li>Egyptian hieroglyph format controls among hieroglyphs (an enclosure may open or close the name), and the
     *       Braille blank between Braille patterns.
     * </ul>
     */
    private static boolean usedThere(int[] points, int i) {
        int c = points[i];
        int before = i > 0 ? points[i - 1] : -1;
        int after = i + 1 < points.length ? points[i + 1] : -1;
        if (c >= 0x13430 && c <= 0x1343F) {
            // Quadrats and enclosures may open or close the name: "begin enclosure, hieroglyphs, end enclosure".
            return (before < 0 || egyptian(before)) && (after < 0 || egyptian(after));
        }
        if (before < 0) {
            return false;
        }
        if (c >= 0xE0020 && c <= CANCEL_TAG) {
            return inRgiFlag(points, i);
        }
        return switch (c) {
            case VS16 -> emojiWithStyles(before) && !Character.isEmojiPresentation(before) || inKeycap(before, after);
            case VS15 -> emojiWithStyles(before) || inKeycap(before, after);
            case ZWJ -> inEmojiZwjSequence(before, after) || joins(points, i, true);
            case ZWNJ -> joins(points, i, false);
            case CGJ -> isMark(after) && !invisible(after);
            case ZWSP -> sameScriptLetters(points, i, WITHOUT_SPACES);
            case LRM, RLM, ALM -> !invisible(before) && after >= 0 && !invisible(after) && mixesDirections(points);
            case BRAILLE_BLANK -> after >= 0 && scriptOf(before) == UnicodeScript.BRAILLE
                    && scriptOf(after) == UnicodeScript.BRAILLE;
            default -> {
                if (c >= 0xFE00 && c <= 0xFE0D) {
                    yield Character.getType(before) == Character.MATH_SYMBOL || Character.isIdeographic(before)
                            || Character.isLetter(before) && WITH_STANDARDIZED_VARIANTS.contains(scriptOf(before));
                }
                if (c >= 0x180B && c <= 0x180F && c != 0x180E) {
                    yield Character.isLetter(before) && scriptOf(before) == UnicodeScript.MONGOLIAN;
                }
                if (c >= 0xE0100 && c <= 0xE01EF) {
                    yield Character.isIdeographic(before);
                }
                yield false; // the Hangul fillers, the word joiner, bidi overrides, the soft hyphen, the BOM...
            }
        };
    }

    /** Why {@code c} is refused where it is, for the problem's detail. */
    private static String whereItGoes(int c) {
        if (c >= 0xE0020 && c <= CANCEL_TAG) {
            return "tag characters go only in a subdivision flag that Unicode recommends (England, Scotland, Wales), "
                    + "after a black flag; other tags show as the black flag alone";
        }
        if (c >= 0x13430 && c <= 0x1343F) {
            return "an Egyptian hieroglyph format control goes among hieroglyphs";
        }
        if (variationSelector(c)) {
            return "a variation selector goes right after a character it selects a variant of (an emoji, an "
                    + "ideograph, a math symbol, a Mongolian letter...)";
        }
        return switch (c) {
            case ZWJ -> "a zero-width joiner goes between two letters of a script that shapes with it (Arabic, the "
                    + "Indic scripts), at the end of such a word, or between the emoji of a ZWJ sequence";
            case ZWNJ -> "a zero-width non-joiner goes between two letters of a script that shapes with it (Persian, "
                    + "the Indic scripts)";
            case CGJ -> "the combining grapheme joiner goes before a combining mark";
            case ZWSP -> "a zero-width space goes between two letters of a script written without spaces (Thai, Lao, "
                    + "Khmer, Myanmar...)";
            case LRM, RLM, ALM -> "a direction mark goes between two visible characters of a name that mixes "
                    + "left-to-right and right-to-left letters";
            case BRAILLE_BLANK -> "the Braille blank goes between Braille patterns";
            default -> "it shows nothing, so the name would look like one without it";
        };
    }

    /** An emoji that has a text and an emoji style (the digits, '#' and '*' only in a keycap). */
    private static boolean emojiWithStyles(int c) {
        return Character.isEmoji(c) && Character.isExtendedPictographic(c);
    }

    private static boolean inKeycap(int before, int after) {
        return after == KEYCAP && (before == '#' || before == '*' || (before >= '0' && before <= '9'));
    }

    /** Between two elements of an emoji ZWJ sequence: woman, ZWJ, wrench is one picture, a mechanic. */
    private static boolean inEmojiZwjSequence(int before, int after) {
        // A VS16 before the ZWJ was itself checked to follow an emoji.
        return Character.isExtendedPictographic(after) && (Character.isExtendedPictographic(before)
                || Character.isEmojiModifier(before) || before == VS16);
    }

    /**
     * A joiner right after a letter (or a mark on one) of a script that shapes with it, and before a letter or mark
     * of the same script or, when {@code atWordEnd}, at the end of the name or before a space or punctuation.
     */
    private static boolean joins(int[] points, int i, boolean atWordEnd) {
        int before = points[i - 1];
        if (!letterOrMark(before) || !SHAPED_BY_JOINERS.contains(baseScript(points, i - 1))) {
            return false;
        }
        if (i + 1 == points.length) {
            return atWordEnd;
        }
        int after = points[i + 1];
        if (letterOrMark(after)) {
            return scriptOf(after) == baseScript(points, i - 1);
        }
        return atWordEnd && !invisible(after);
    }

    private static boolean sameScriptLetters(int[] points, int i, Set<UnicodeScript> scripts) {
        if (i + 1 == points.length || !letterOrMark(points[i - 1]) || !letterOrMark(points[i + 1])) {
            return false;
        }
        UnicodeScript script = baseScript(points, i - 1);
        return scripts.contains(script) && scriptOf(points[i + 1]) == script;
    }

    /**
     * Whether the tag character {@code points[i]} is in a black flag, tags of an RGI subdivision, a cancel tag: the
     * whole run of tags around it is checked.
     */
    private static boolean inRgiFlag(int[] points, int i) {
        int start = i;
        while (start > 0 && isTag(points[start - 1])) {
            start--;
        }
        int end = i;
        while (end + 1 < points.length && isTag(points[end + 1])) {
            end++;
        }
        if (start == 0 || points[start - 1] != BLACK_FLAG || points[end] != CANCEL_TAG) {
            return false;
        }
        var spec = new StringBuilder();
        for (int k = start; k < end; k++) {
            spec.appendCodePoint(points[k] - 0xE0000);
        }
        return RGI_FLAG_TAGS.contains(spec.toString());
    }

    private static boolean egyptian(int c) {
        return scriptOf(c) == UnicodeScript.EGYPTIAN_HIEROGLYPHS;
    }

    private static boolean isTag(int c) {
        return c >= 0xE0020 && c <= CANCEL_TAG;
    }

    /** A strong left-to-right and a strong right-to-left character both, not counting the direction marks. */
    private static boolean mixesDirections(int[] points) {
        boolean ltr = false;
        boolean rtl = false;
        for (int c : points) {
            if (invisible(c)) {
                continue; // RLM is itself a strong right-to-left character
            }
            byte direction = Character.getDirectionality(c);
            ltr |= direction == Character.DIRECTIONALITY_LEFT_TO_RIGHT;
            rtl |= direction == Character.DIRECTIONALITY_RIGHT_TO_LEFT
                    || direction == Character.DIRECTIONALITY_RIGHT_TO_LEFT_ARABIC;
        }
        return ltr && rtl;
    }

    private static boolean letterOrMark(int c) {
        return (Character.isLetter(c) || isMark(c)) && !invisible(c);
    }

    private static UnicodeScript scriptOf(int c) {
        return UnicodeScript.of(c);
    }

    /** The script of {@code points[i]}, or of the letter it sits on if it is a mark shared by scripts (Arabic's). */
    private static UnicodeScript baseScript(int[] points, int i) {
        int k = i;
        while (k > 0 && scriptOf(points[k]) == UnicodeScript.INHERITED) {
            k--;
        }
        return scriptOf(points[k]);
    }

    private static boolean isMark(int c) {
        int type = Character.getType(c);
        return type == Character.NON_SPACING_MARK || type == Character.ENCLOSING_MARK
                || type == Character.COMBINING_SPACING_MARK;
    }

    /** U+FDD0..U+FDEF and the last two code points of every plane: never meant to be interchanged. */
    private static boolean noncharacter(int c) {
        return (c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE;
    }

    /** Without whitespace at either end: Java's strip() keeps no-break spaces, which Unicode counts as white space. */
    private static String trim(String text) {
        int start = 0;
        int end = text.length();
        while (start < end && isSpace(text.codePointAt(start))) {
            start += Character.charCount(text.codePointAt(start));
        }
        while (end > start && isSpace(text.codePointBefore(end))) {
            end -= Character.charCount(text.codePointBefore(end));
        }
        return text.substring(start, end);
    }

    private static boolean isSpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c);
    }
}
