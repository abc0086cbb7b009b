package rlcd4j.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

class HtmlTest {
    @Test
    void escapesMarkupAmpersandsAndBothQuotes() {
        assertEquals(
                "&lt;b class=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/b&gt;",
                Html.escape("<b class=\"x\">Tom & Jerry's</b>"));
        // Escaping twice escapes the first pass's ampersands: callers escape raw text once.
        assertEquals("&amp;lt;", Html.escape("&lt;"));
        assertEquals("", Html.escape(""));
        assertEquals("caf\u00e9 \u2026 \n\t", Html.escape("caf\u00e9 \u2026 \n\t"));
    }

    @Test
    void textWithNothingToEscapeIsReturnedAsIs() {
        String s = "plain text";
        assertSame(s, Html.escape(s));
    }
}
