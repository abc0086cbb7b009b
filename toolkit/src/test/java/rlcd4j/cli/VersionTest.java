package rlcd4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;

class VersionTest {
    /** The version in the checkout's root pom.xml, read from the file itself (surefire sets rlcd4j.root). */
    static String pomVersion() throws Exception {
        Path pom = Path.of(System.getProperty("rlcd4j.root", "..")).resolve("pom.xml");
        Element project = DocumentBuilderFactory.newInstance()
                .newDocumentBuilder()
                .parse(pom.toFile())
                .getDocumentElement();
        for (var node = project.getFirstChild(); node != null; node = node.getNextSibling()) {
            if (node instanceof Element e && e.getTagName().equals("version"))
                return e.getTextContent().strip();
        }
        throw new AssertionError(pom + " has no <version>");
    }

    @Test
    void versionOptionPrintsThePomsVersion() throws Exception {
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            code = Main.run("--version");
        } finally {
            System.setOut(stdout);
        }
        assertEquals(0, code);
        assertEquals(
                "rlcd4j " + pomVersion(),
                captured.toString(StandardCharsets.UTF_8).strip());
    }
}
