package rlcd4j.kernel;

import java.io.File;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerException;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;
import rlcd4j.util.Html;
import rlcd4j.util.RlcdException;

/**
 * The Maven magics: {@code %maven group:artifact:version ...}, {@code %mavenRepo id url}, {@code %%loadFromPOM} and
 * {@code %loadFromPOM pom.xml}. They resolve the artifacts and their dependencies from Maven Central (and the added
 * repositories) by running the {@code mvn} command (no resolver library inside the kernel) into a cache directory,
 * then return the jars. Bad input, a missing {@code mvn} or no network each fail with one clear line.
 */
final class MavenMagic {
    /** Pinned so that resolution works offline once the plugin is in the local repository. */
    static final String DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";

    private static final long TIMEOUT_MINUTES = 10;
    static final String CENTRAL = "https://repo.maven.apache.org/maven2/";

    private MavenMagic() {}

    /** A repository added with {@code %mavenRepo id url}; used by later {@code %maven} calls. */
    record Repository(String id, String url) {}

    /**
     * {@code %mavenRepo id url}: the repository to add. An id alone must name one already added (or "central");
     * otherwise it is an unknown repository and the error says to give its URL.
     */
    static Repository repository(List<String> args, List<Repository> known) {
        if (args.size() == 1) {
            String id = args.get(0);
            if (id.equals("central")) return new Repository("central", CENTRAL);
            for (Repository r : known) if (r.id().equals(id)) return r;
            throw new RlcdException("%mavenRepo: unknown repository '" + id + "': give its URL too, e.g. %mavenRepo "
                    + id + " https://repo.example.org/maven2/");
        }
        if (args.size() != 2) {
            throw new RlcdException("%mavenRepo: give a repository id and its URL, e.g. %mavenRepo sonatype "
                    + "https://oss.sonatype.org/content/repositories/snapshots/ (got " + args.size() + " arguments)");
        }
        String id = args.get(0);
        String url = args.get(1);
        if (!id.matches("[A-Za-z0-9._-]+")) {
            throw new RlcdException("%mavenRepo: '" + id + "' is not a repository id (letters, digits, '.', '_', '-')");
        }
        try {
            URI uri = new URI(url);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            boolean web = scheme.equals("http") || scheme.equals("https");
            if (!(web && uri.getHost() != null) && !scheme.equals("file")) {
                throw new URISyntaxException(url, "expected an http, https or file URL");
            }
        } catch (URISyntaxException e) {
            throw new RlcdException("%mavenRepo: '" + url + "' is not a repository URL (" + e.getReason()
                    + "), e.g. https://repo.example.org/maven2/");
        }
        return new Repository(id, url);
    }

    /** {@code %maven group:artifact:version ...}: the jars of the artifacts and their runtime dependencies. */
    static List<Path> resolve(
            List<String> coordinates, List<Repository> repositories, Path cacheRoot, boolean offline) {
        if (coordinates.isEmpty())
            throw new RlcdException(
                    "%maven: give coordinates group:artifact:version, e.g. %maven org.apache.commons:commons-math3:3.6.1");
        StringBuilder deps = new StringBuilder();
        for (String c : coordinates) {
            String[] p = c.split(":");
            if (p.length < 3 || p.length > 5 || Stream.of(p).anyMatch(String::isBlank)) {
                throw new RlcdException("%maven: '" + c
                        + "' is not group:artifact:version (or group:artifact:type:classifier:version)");
            }
            deps.append("<dependency><groupId>")
                    .append(Html.escape(p[0]))
                    .append("</groupId><artifactId>")
                    .append(Html.escape(p[1]))
                    .append("</artifactId>");
            if (p.length == 3)
                deps.append("<version>").append(Html.escape(p[2])).append("</version>");
            if (p.length == 4)
                deps.append("<type>")
                        .append(Html.escape(p[2]))
                        .append("</type><version>")
                        .append(Html.escape(p[3]))
                        .append("</version>");
            if (p.length == 5)
                deps.append("<type>")
                        .append(Html.escape(p[2]))
                        .append("</type><classifier>")
                        .append(Html.escape(p[3]))
                        .append("</classifier><version>")
                        .append(Html.escape(p[4]))
                        .append("</version>");
            deps.append("</dependency>");
        }
        StringBuilder repos = new StringBuilder();
        for (Repository r : repositories) {
            repos.append("<repository><id>")
                    .append(Html.escape(r.id()))
                    .append("</id><url>")
                    .append(Html.escape(r.url()))
                    .append("</url></repository>");
        }
        String pom = "<project><modelVersion>4.0.0</modelVersion><groupId>rlcd4j.notebook</groupId>"
                + "<artifactId>maven-magic</artifactId><version>0</version><packaging>pom</packaging>"
                + (repos.length() == 0 ? "" : "<repositories>" + repos + "</repositories>")
                + "<dependencies>" + deps + "</dependencies></project>\n";
        return copyDependencies(pom, "runtime", cacheRoot, offline, "%maven", String.join(" ", coordinates));
    }

    /**
     * {@code %%loadFromPOM}: a whole {@code <project>}, or loose {@code <dependency>} and {@code <repository>}
     * elements (also inside {@code <dependencies>}/{@code <repositories>}), as copied from a README.
     */
    static String pomFromCell(String body) {
        Element root = parse(body, "%%loadFromPOM");
        List<Element> top = children(root);
        if (top.size() == 1 && top.get(0).getTagName().equals("project")) return body.strip() + "\n";
        StringBuilder deps = new StringBuilder();
        StringBuilder repos = new StringBuilder();
        NodeList d = root.getElementsByTagName("dependency");
        for (int i = 0; i < d.getLength(); i++) deps.append(serialize(d.item(i)));
        NodeList r = root.getElementsByTagName("repository");
        for (int i = 0; i < r.getLength(); i++) repos.append(serialize(r.item(i)));
        if (deps.length() == 0) {
            throw new RlcdException("%%loadFromPOM: the cell has no <dependency> element; paste a POM or its "
                    + "<dependency> (and <repository>) elements");
        }
        return "<project><modelVersion>4.0.0</modelVersion><groupId>rlcd4j.notebook</groupId>"
                + "<artifactId>load-from-pom</artifactId><version>0</version><packaging>pom</packaging>"
                + (repos.length() == 0 ? "" : "<repositories>" + repos + "</repositories>")
                + "<dependencies>" + deps + "</dependencies></project>\n";
    }

    /** {@code %loadFromPOM path/pom.xml}: the file's text, checked to be a POM. */
    static String pomFromFile(Path pom) {
        if (!Files.isRegularFile(pom)) {
            throw new RlcdException("%loadFromPOM: " + pom.toAbsolutePath() + ": no such file");
        }
        try {
            String text = Files.readString(pom, StandardCharsets.UTF_8);
            List<Element> top = children(parse(text, "%loadFromPOM " + pom));
            if (top.size() != 1 || !top.get(0).getTagName().equals("project")) {
                throw new RlcdException("%loadFromPOM: " + pom + ": the root element is not <project>");
            }
            return text;
        } catch (IOException e) {
            throw new RlcdException("%loadFromPOM: " + pom + ": " + e.getMessage(), e);
        }
    }

    /** The dependencies of a POM in the given scope ("compile", "runtime" (default), "test", ...). */
    static List<Path> resolvePom(String pom, List<String> scopes, Path cacheRoot, boolean offline, String magic) {
        if (scopes.size() > 1) {
            throw new RlcdException(
                    magic + ": give at most one scope (compile, runtime, test, provided or system), got " + scopes);
        }
        String scope = scopes.isEmpty() ? "runtime" : scopes.get(0);
        if (!List.of("compile", "runtime", "test", "provided", "system").contains(scope)) {
            throw new RlcdException(
                    magic + ": unknown scope '" + scope + "' (compile, runtime, test, provided or system)");
        }
        return copyDependencies(pom, scope, cacheRoot, offline, magic, "the POM's dependencies");
    }

    /**
     * The wrapped fragment's root; a fragment that is not well-formed XML is an error naming its line. A leading XML
     * declaration is dropped so that a whole POM can be wrapped too.
     */
    private static Element parse(String xmlText, String magic) {
        String body = xmlText.strip().replaceFirst("^<\\?xml[^>]*\\?>", "");
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setExpandEntityReferences(false);
            DocumentBuilder b = f.newDocumentBuilder();
            b.setErrorHandler(null);
            Document doc = b.parse(new InputSource(new StringReader("<rlcd-fragment>" + body + "</rlcd-fragment>")));
            return doc.getDocumentElement();
        } catch (SAXParseException e) {
            throw new RlcdException(
                    magic + ": the POM is not well-formed XML: line " + e.getLineNumber() + ": " + e.getMessage());
        } catch (SAXException | IOException | ParserConfigurationException e) {
            throw new RlcdException(magic + ": cannot read the POM: " + e.getMessage(), e);
        }
    }

    private static List<Element> children(Element e) {
        List<Element> out = new ArrayList<>();
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) if (n instanceof Element c) out.add(c);
        return out;
    }

    private static String serialize(Node node) {
        try {
            Transformer t = TransformerFactory.newInstance().newTransformer();
            t.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
            StringWriter w = new StringWriter();
            t.transform(new DOMSource(node), new StreamResult(w));
            return w.toString();
        } catch (TransformerException e) {
            throw new RlcdException("cannot write the POM element: " + e.getMessage(), e);
        }
    }

    private static List<Path> copyDependencies(
            String pom, String scope, Path cacheRoot, boolean offline, String magic, String what) {
        String mvn = findMvn();
        if (mvn == null) {
            throw new RlcdException(magic + " needs the 'mvn' command on PATH (or MAVEN_HOME); without it, download the"
                    + " jars and use %classpath");
        }
        String key = Integer.toHexString((pom + scope).hashCode());
        Path work = cacheRoot.resolve(key);
        Path lib = work.resolve("lib");
        try {
            Files.createDirectories(work);
            Files.writeString(work.resolve("pom.xml"), pom, StandardCharsets.UTF_8);
            List<String> cmd = new ArrayList<>(List.of(mvn, "-B", "-q"));
            if (offline) cmd.add("-o");
            cmd.addAll(List.of(
                    "-f",
                    work.resolve("pom.xml").toString(),
                    DEPENDENCY_PLUGIN + ":copy-dependencies",
                    "-DincludeScope=" + scope,
                    "-DoutputDirectory=" + lib));
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.redirectErrorStream(true);
            Path log = work.resolve("mvn.log");
            pb.redirectOutput(log.toFile());
            Process proc = pb.start();
            if (!proc.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                proc.destroyForcibly();
                throw new RlcdException(
                        magic + ": mvn did not finish in " + TIMEOUT_MINUTES + " minutes (log: " + log + ")");
            }
            if (proc.exitValue() != 0)
                throw new RlcdException(magic + ": could not resolve " + what + " ("
                        + reason(Files.readString(log), offline) + "; log: " + log + ")");
            if (!Files.isDirectory(lib)) return List.of();
            try (Stream<Path> jars = Files.list(lib)) {
                return jars.filter(f -> f.toString().endsWith(".jar")).sorted().toList();
            }
        } catch (IOException e) {
            throw new RlcdException(magic + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CellInterrupted();
        }
    }

    /** The one line of Maven's output that says why, e.g. offline or artifact not found. */
    static String reason(String log, boolean offline) {
        String lower = log.toLowerCase(Locale.ROOT);
        if (offline && lower.contains("offline mode")) {
            return "not in the local Maven repository, and offline mode is on (RLCD4J_MAVEN_OFFLINE)";
        }
        if (lower.contains("unknownhostexception")
                || lower.contains("connect timed out")
                || lower.contains("network is unreachable")
                || lower.contains("connection refused")
                || lower.contains("offline mode")) {
            return "Maven Central or a repository added with %mavenRepo is not reachable from here (offline?)";
        }
        for (String line : log.split("\\R")) {
            if (line.contains("[ERROR]") && line.contains("ould not"))
                return line.replace("[ERROR]", "").strip();
        }
        for (String line : log.split("\\R")) {
            if (line.contains("[ERROR]")) return line.replace("[ERROR]", "").strip();
        }
        return "mvn failed";
    }

    static String findMvn() {
        String home = System.getenv("MAVEN_HOME");
        if (home != null && Files.isExecutable(Path.of(home, "bin", "mvn")))
            return Path.of(home, "bin", "mvn").toString();
        String path = System.getenv("PATH");
        if (path == null) return null;
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Path.of(dir, "mvn");
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }
}
