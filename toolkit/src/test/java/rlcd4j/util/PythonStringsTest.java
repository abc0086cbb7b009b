package rlcd4j.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PythonStringsTest {
    @Test
    void stripIsPythonsStrip() {
        assertEquals("x", PythonStrings.strip("\u00a0\u2003 x\u3000\u001f"));
        assertEquals("x\u200b", PythonStrings.strip(" x\u200b ")); // zero-width space is not whitespace in Python
        assertEquals("", PythonStrings.strip(" \t\n\u000b\f\r "));
        assertEquals("a  b", PythonStrings.strip("\u0085a  b\u2028"));
    }

    /** The chars where the two former copies could part: Java's String.strip() and Python's str.strip() disagree. */
    @Test
    void whitespaceIsPythonsIsspaceNotJavas() {
        // Python: '\x85\xa0\u2007\u202f'.isspace() is True; Java's Character.isWhitespace says false for all four.
        for (char c : new char[] {'\u0085', '\u00a0', '\u2007', '\u202f'}) {
            assertTrue(PythonStrings.isSpace(c), Integer.toHexString(c));
            assertEquals("x", PythonStrings.strip(c + "x" + c));
            assertEquals(c + "x", (c + "x ").strip(), "Java's strip keeps it");
        }
        // Python: False for U+180E (Cf since Unicode 6.3), U+200B, U+FEFF.
        for (char c : new char[] {'\u180e', '\u200b', '\ufeff'}) assertFalse(PythonStrings.isSpace(c));
        // Python: '\x1c\x1d\x1e\x1f'.isspace() is True (file/group/record/unit separators).
        for (char c = '\u001c'; c <= '\u001f'; c++) assertTrue(PythonStrings.isSpace(c));
    }

    /** Every BMP char for which Python 3.11 says {@code chr(c).isspace()}, checked over the whole BMP. */
    @Test
    void isSpaceMatchesPythonsListOverTheWholeBmp() {
        String python = "\t\n\u000b\f\r\u001c\u001d\u001e\u001f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004"
                + "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";
        for (char c = 0; c < Character.MAX_VALUE; c++) {
            assertEquals(python.indexOf(c) >= 0, PythonStrings.isSpace(c), "U+" + Integer.toHexString(c));
        }
    }

    @Test
    void collapseBlankLines() {
        assertEquals("a\nb\nc", PythonStrings.collapseBlankLines("a\n\n\n\nb\n\nc"));
        assertEquals("a \n b", PythonStrings.collapseBlankLines("a \n b"));
    }
}
