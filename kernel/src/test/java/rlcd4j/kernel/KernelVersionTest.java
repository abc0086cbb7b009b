package rlcd4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;

class KernelVersionTest {
    /** kernel_info's implementation_version is {@link RlcdKernel#VERSION}; it must be the root pom's version. */
    @Test
    void kernelVersionIsThePomsVersion() throws Exception {
        Path pom = Path.of(System.getProperty("rlcd4j.root", "..")).resolve("pom.xml");
        Element project = DocumentBuilderFactory.newInstance()
                .newDocumentBuilder()
                .parse(pom.toFile())
                .getDocumentElement();
        String pomVersion = null;
        for (var node = project.getFirstChild(); node != null; node = node.getNextSibling()) {
            if (node instanceof Element e && e.getTagName().equals("version"))
                pomVersion = e.getTextContent().strip();
        }
        assertEquals(pomVersion, RlcdKernel.VERSION);
    }
}
