package rlcd4j.hub;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.Fixtures;
import rlcd4j.engine.BadInputTest;
import rlcd4j.engine.CausalLM;
import rlcd4j.util.RlcdException;

/**
 * Downloads from a fake Hub on 127.0.0.1 (the Hub's API, resolve URLs with LFS redirects to a second "CDN" server,
 * ranges, errors), into a temporary cache laid out as huggingface_hub lays it out.
 */
class HfHubTest {
    static final String REPO = "test-org/tiny-stories";
    static final String MODEL_FILES_NOT_LFS =
            "config.json generation_config.json special_tokens_map.json tokenizer.json tokenizer_config.json";

    @TempDir
    Path tmp;

    FakeHub server;
    Path cache;

    @BeforeEach
    void start() throws IOException {
        server = new FakeHub();
        cache = tmp.resolve("hub");
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String f : MODEL_FILES_NOT_LFS.split(" "))
            files.put(f, Files.readAllBytes(Fixtures.tinyStories().resolve(f)));
        files.put("model.safetensors", Files.readAllBytes(Fixtures.tinyStories().resolve("model.safetensors")));
        files.put("README.md", "# tiny\n".getBytes(StandardCharsets.UTF_8));
        server.addRepo("model", REPO, files, Set.of("model.safetensors"));
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    HfHub hub() {
        return hub(null);
    }

    HfHub hub(String token) {
        return new HfHub(cache, false, server.endpoint(), token).withRetries(3, Duration.ofMillis(10));
    }

    @Test
    void downloadsModelInHuggingFaceLayoutAndLoadsIt() throws Exception {
        Path dir = hub().resolveModel(REPO, null);
        FakeHub.Repo repo = server.repo("model", REPO);
        Path repoDir = cache.resolve("models--test-org--tiny-stories");
        assertEquals(repoDir.resolve("snapshots").resolve(repo.sha()), dir);
        assertEquals(repo.sha(), Files.readString(repoDir.resolve("refs/main")));
        for (String f : (MODEL_FILES_NOT_LFS + " model.safetensors").split(" ")) {
            Path pointer = dir.resolve(f);
            assertTrue(Files.isSymbolicLink(pointer), f + " is a symlink");
            Path target = Files.readSymbolicLink(pointer);
            assertEquals(Path.of("../../blobs").resolve(repo.etag(f)), target, f + " links relatively to its blob");
            assertArrayEquals(repo.files().get(f), Files.readAllBytes(pointer), f + " has the served bytes");
        }
        assertEquals(
                sha256(repo.files().get("model.safetensors")),
                repo.etag("model.safetensors"),
                "LFS blobs are named by sha256");
        assertFalse(Files.exists(dir.resolve("README.md")), "only the files a model needs are downloaded");
        assertNoPartialFiles();

        try (CausalLM viaHub = CausalLM.load(REPO, CausalLM.Options.defaults(), hub());
                CausalLM direct = CausalLM.load(Fixtures.tinyStories())) {
            List<String> prompts = List.of("Once upon a time", "The cat");
            float[][] a = viaHub.nextTokenLogits(prompts), b = direct.nextTokenLogits(prompts);
            for (int i = 0; i < a.length; i++) assertArrayEquals(b[i], a[i], "logits of prompt " + i);
        }
    }

    @Test
    void secondResolveMakesNoRequests() throws Exception {
        Path first = hub().resolveModel(REPO, null);
        assertTrue(server.requests().size() >= 7, "API + HEADs + GETs: " + server.requests());
        server.clearLog();
        assertEquals(first, hub().resolveModel(REPO, null));
        assertEquals(first, hub().resolveModel(REPO, server.repo("model", REPO).sha()), "by commit hash too");
        assertEquals(first.resolve("config.json"), hub().downloadFile("model", REPO, "main", "config.json"));
        assertEquals(List.of(), server.requests());
    }

    @Test
    void resumesAfterCutConnectionWithinOneCall() throws Exception {
        server.cutTimes = 1;
        Path dir = hub().resolveModel(REPO, null);
        byte[] expected = server.repo("model", REPO).files().get("model.safetensors");
        assertArrayEquals(expected, Files.readAllBytes(dir.resolve("model.safetensors")));
        List<FakeHub.Req> cdnGets =
                server.requests().stream().filter(r -> r.server().equals("cdn")).toList();
        assertEquals(2, cdnGets.size(), cdnGets.toString());
        assertNull(cdnGets.get(0).range());
        // the server cuts the connection after writing half; bytes still in flight at the cut may be lost, so the
        // retry resumes from what arrived: somewhere after the start and at most at the half
        String range = cdnGets.get(1).range();
        long from = Long.parseLong(range.substring("bytes=".length(), range.length() - 1));
        assertTrue(from > 0 && from <= expected.length / 2, "the retry asks for the rest only: " + range);
        assertNoPartialFiles();
    }

    @Test
    void failedDownloadKeepsOnlyIncompleteAndNextCallResumes() throws Exception {
        server.cutTimes = 100;
        RlcdException e = assertThrows(RlcdException.class, () -> hub().resolveModel(REPO, null));
        byte[] expected = server.repo("model", REPO).files().get("model.safetensors");
        String etag = server.repo("model", REPO).etag("model.safetensors");
        Path blobs = cache.resolve("models--test-org--tiny-stories/blobs");
        Path part = blobs.resolve(etag + ".incomplete");
        assertTrue(
                e.getMessage().contains("model.safetensors")
                        && e.getMessage().contains(part.toString())
                        && e.getMessage().contains("resumes")
                        && e.getMessage().contains("expected " + expected.length + " bytes"),
                e.getMessage());
        long kept = Files.size(part); // up to half: bytes in flight at the cut may be lost
        assertTrue(kept > 0 && kept <= expected.length / 2, "what was received is kept: " + kept);
        assertFalse(Files.exists(blobs.resolve(etag)), "no blob under its final name");
        Path snap = cache.resolve("models--test-org--tiny-stories/snapshots")
                .resolve(server.repo("model", REPO).sha());
        assertFalse(
                Files.exists(snap.resolve("model.safetensors"), java.nio.file.LinkOption.NOFOLLOW_LINKS),
                "no pointer to a missing blob");
        assertFalse(
                Files.exists(cache.resolve("models--test-org--tiny-stories/refs/main")),
                "no ref to an incomplete snapshot");

        server.cutTimes = 0;
        server.clearLog();
        Path dir = hub().resolveModel(REPO, null);
        assertArrayEquals(expected, Files.readAllBytes(dir.resolve("model.safetensors")));
        List<FakeHub.Req> cdnGets =
                server.requests().stream().filter(r -> r.server().equals("cdn")).toList();
        assertEquals(
                List.of("bytes=" + kept + "-"),
                cdnGets.stream().map(FakeHub.Req::range).toList());
        assertNoPartialFiles();
    }

    @Test
    void serverThatIgnoresRangeGetsTheWholeFileAgain() throws Exception {
        server.cutTimes = 1;
        server.ignoreRange = true;
        Path dir = hub().resolveModel(REPO, null);
        assertArrayEquals(
                server.repo("model", REPO).files().get("model.safetensors"),
                Files.readAllBytes(dir.resolve("model.safetensors")));
        List<FakeHub.Req> cdnGets =
                server.requests().stream().filter(r -> r.server().equals("cdn")).toList();
        assertEquals(2, cdnGets.size());
        assertNotNull(cdnGets.get(1).range(), "a resume was asked for, and the 200 answer restarted the file");
        assertNoPartialFiles();
    }

    @Test
    void tokenIsSentAsBearerToTheHubOnly() throws Exception {
        server.requiredToken = "hf_secret_test_token";
        RlcdException e = assertThrows(RlcdException.class, () -> hub().resolveModel(REPO, null));
        assertTrue(
                e.getMessage().contains("HF_TOKEN")
                        && e.getMessage().contains(REPO)
                        && e.getMessage().contains("401"),
                e.getMessage());

        RlcdException wrong =
                assertThrows(RlcdException.class, () -> hub("hf_wrong").resolveModel(REPO, null));
        assertTrue(
                wrong.getMessage().contains("HF_TOKEN") && !wrong.getMessage().contains("hf_wrong"),
                wrong.getMessage());
        assertFalse(hub("hf_wrong").toString().contains("hf_wrong"), "the token is never printed");

        server.clearLog();
        Path dir = hub("hf_secret_test_token").resolveModel(REPO, null);
        assertTrue(Files.isRegularFile(dir.resolve("model.safetensors")));
        for (FakeHub.Req r : server.requests()) {
            if (r.server().equals("hub")) assertEquals("Bearer hf_secret_test_token", r.auth(), r.toString());
            else assertNull(r.auth(), "no token to the CDN: " + r);
        }
        assertTrue(server.requests().stream().anyMatch(r -> r.server().equals("cdn")));
        assertNoPartialFiles();
    }

    @Test
    void unknownRepoRevisionAndFileEachSaySo() throws Exception {
        RlcdException repo =
                assertThrows(RlcdException.class, () -> hub().resolveModel("test-org/no-such-model", null));
        assertTrue(
                repo.getMessage().contains("test-org/no-such-model")
                        && repo.getMessage().contains("404")
                        && repo.getMessage().contains("expected an existing repo id"),
                repo.getMessage());
        RlcdException rev = assertThrows(RlcdException.class, () -> hub().resolveModel(REPO, "v9"));
        assertTrue(rev.getMessage().contains("no revision v9 in " + REPO), rev.getMessage());
        RlcdException file =
                assertThrows(RlcdException.class, () -> hub().downloadFile("model", REPO, null, "nope.json"));
        assertTrue(
                file.getMessage().contains("nope.json") && file.getMessage().contains("has no such file"),
                file.getMessage());
        RlcdException notId = assertThrows(RlcdException.class, () -> hub().resolveModel("no/such/folder", null));
        assertTrue(notId.getMessage().contains("no such folder"), notId.getMessage());
        assertNoPartialFiles();
    }

    @Test
    void repoWithoutSafetensorsOrTokenizerJsonIsRefusedBeforeDownloading() throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("config.json", Files.readAllBytes(Fixtures.tinyStories().resolve("config.json")));
        files.put("tokenizer.json", Files.readAllBytes(Fixtures.tinyStories().resolve("tokenizer.json")));
        files.put("pytorch_model.bin", new byte[] {1, 2, 3});
        server.addRepo("model", "test-org/pickle-only", files, Set.of());
        RlcdException e = assertThrows(RlcdException.class, () -> hub().resolveModel("test-org/pickle-only", null));
        assertTrue(
                e.getMessage().contains("no model.safetensors")
                        && e.getMessage().contains("pytorch_model.bin"),
                e.getMessage());
    }

    @Test
    void serverErrorsAreRetriedThenReported() throws Exception {
        server.fail500 = 2; // two failures, then the Hub recovers: the retries absorb them
        Path dir = hub().resolveModel(REPO, null);
        assertTrue(Files.isRegularFile(dir.resolve("config.json")));
        assertEquals(
                2, server.requests().stream().filter(r -> r.status() == 500).count());

        server.fail500 = 1000;
        server.clearLog();
        RlcdException e = assertThrows(RlcdException.class, () -> hub().resolveModel("test-org/other", null));
        assertTrue(
                e.getMessage().contains("HTTP 500")
                        && e.getMessage().contains("test-org/other")
                        && e.getMessage().contains("3 attempts"),
                e.getMessage());
        // the server logs a request after answering it, so the last one may still be on its way into the log
        for (int i = 0; i < 100 && server.requests().size() < 3; i++) Thread.sleep(20);
        assertEquals(3, server.requests().size(), "3 attempts: " + server.requests());
    }

    @Test
    void serverErrorDuringBlobDownloadLeavesNoFinalFile() throws Exception {
        server.fail500OnCdn = true;
        RlcdException e = assertThrows(RlcdException.class, () -> hub().resolveModel(REPO, null));
        assertTrue(e.getMessage().contains("HTTP 500") && e.getMessage().contains("model.safetensors"), e.getMessage());
        String etag = server.repo("model", REPO).etag("model.safetensors");
        assertFalse(Files.exists(
                cache.resolve("models--test-org--tiny-stories/blobs").resolve(etag)));
        assertNoPartialFilesExceptIncomplete();
    }

    @Test
    void corruptDownloadIsDeletedNotRenamed() throws Exception {
        server.corruptLfs = true; // right size, wrong bytes: the sha256 check catches it
        RlcdException e = assertThrows(RlcdException.class, () -> hub().resolveModel(REPO, null));
        assertTrue(e.getMessage().contains("sha256") && e.getMessage().contains("model.safetensors"), e.getMessage());
        try (Stream<Path> s = Files.walk(cache.resolve("models--test-org--tiny-stories/blobs"))) {
            String etag = server.repo("model", REPO).etag("model.safetensors");
            assertTrue(
                    s.noneMatch(p -> p.getFileName().toString().startsWith(etag)), "neither blob nor .incomplete kept");
        }
    }

    @Test
    void offlineUsesTheCacheAndNeverTheNetwork() throws Exception {
        HfHub offline = new HfHub(cache, true, server.endpoint(), null);
        RlcdException e = assertThrows(RlcdException.class, () -> offline.resolveModel(REPO, null));
        assertTrue(
                e.getMessage().contains("HF_HUB_OFFLINE=1")
                        && e.getMessage().contains(cache.toString())
                        && e.getMessage().contains(REPO),
                e.getMessage());
        RlcdException f = assertThrows(
                RlcdException.class,
                () -> offline.downloadFile("dataset", "Anthropic/hh-rlhf", null, "harmless-base/test.jsonl.gz"));
        assertTrue(
                f.getMessage().contains("HF_HUB_OFFLINE=1") && f.getMessage().contains("harmless-base/test.jsonl.gz"),
                f.getMessage());
        assertEquals(List.of(), server.requests());

        Path online = hub().resolveModel(REPO, null);
        server.clearLog();
        assertEquals(online, offline.resolveModel(REPO, null));
        assertEquals(List.of(), server.requests());
    }

    @Test
    void noNetworkSaysSoAndPointsAtOfflineMode() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // closed again below: nothing listens there
        }
        HfHub dead = new HfHub(cache, false, "http://127.0.0.1:" + port, null).withRetries(2, Duration.ofMillis(10));
        RlcdException e = assertThrows(RlcdException.class, () -> dead.resolveModel(REPO, null));
        assertTrue(
                e.getMessage().contains("cannot reach http://127.0.0.1:" + port)
                        && e.getMessage().contains("HF_HUB_OFFLINE=1")
                        && e.getMessage().toLowerCase().contains("connection refused")
                        && e.getMessage().contains(cache.toString())
                        && e.getMessage().contains(REPO),
                e.getMessage());
        // (An unknown host takes the same path, but resolving one would ask a DNS server: tests stay on loopback.)
        RlcdException d = assertThrows(
                RlcdException.class, () -> dead.downloadFile("dataset", "Anthropic/hh-rlhf", null, "a.jsonl"));
        assertTrue(
                d.getMessage().contains("cannot reach") && d.getMessage().contains("Anthropic/hh-rlhf"),
                d.getMessage());
    }

    @Test
    void datasetFileLandsInTheDatasetsCache() throws Exception {
        byte[] gz = Files.readAllBytes(Fixtures.hhHarmlessTest());
        server.addRepo(
                "dataset",
                "Anthropic/hh-rlhf",
                Map.of("harmless-base/test.jsonl.gz", gz, "README.md", new byte[] {'#'}),
                Set.of("harmless-base/test.jsonl.gz"));
        Path f = hub().downloadFile("dataset", "Anthropic/hh-rlhf", null, "harmless-base/test.jsonl.gz");
        FakeHub.Repo repo = server.repo("dataset", "Anthropic/hh-rlhf");
        Path repoDir = cache.resolve("datasets--Anthropic--hh-rlhf");
        assertEquals(repoDir.resolve("snapshots").resolve(repo.sha()).resolve("harmless-base/test.jsonl.gz"), f);
        assertEquals(
                Path.of("../../../blobs").resolve(repo.etag("harmless-base/test.jsonl.gz")), Files.readSymbolicLink(f));
        assertArrayEquals(gz, Files.readAllBytes(f));
        assertEquals(repo.sha(), Files.readString(repoDir.resolve("refs/main")));
        assertTrue(
                server.requests().stream()
                        .allMatch(r -> r.server().equals("cdn") || r.path().startsWith("/datasets/Anthropic/hh-rlhf/")),
                server.requests().toString());
        server.clearLog();
        assertEquals(f, hub().downloadFile("dataset", "Anthropic/hh-rlhf", null, "harmless-base/test.jsonl.gz"));
        assertEquals(List.of(), server.requests());
        assertNoPartialFiles();
    }

    @Test
    void shardedModelDownloadsIndexAndEveryShard(@TempDir Path work) throws Exception {
        Path sharded = work.resolve("sharded");
        BadInputTest.copyFixture(sharded);
        BadInputTest.splitIntoTwoShards(sharded);
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (Stream<Path> s = Files.list(sharded)) {
            for (Path p : s.toList()) files.put(p.getFileName().toString(), Files.readAllBytes(p));
        }
        assertFalse(files.containsKey("model.safetensors"));
        server.addRepo(
                "model",
                "test-org/sharded",
                files,
                Set.of("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"));
        Path dir = hub().resolveModel("test-org/sharded", null);
        assertEquals(List.of(), HfHub.missingModelFiles(dir));
        for (String f : files.keySet()) assertArrayEquals(files.get(f), Files.readAllBytes(dir.resolve(f)), f);
        try (CausalLM a = CausalLM.load(dir);
                CausalLM b = CausalLM.load(Fixtures.tinyStories())) {
            assertArrayEquals(
                    b.nextTokenLogits(List.of("Tom had a dog"))[0], a.nextTokenLogits(List.of("Tom had a dog"))[0]);
        }
    }

    @Test
    void incompleteCachedSnapshotIsCompletedFromTheHub() throws Exception {
        Path dir = hub().resolveModel(REPO, null);
        Files.delete(dir.resolve("tokenizer.json")); // e.g. Python fetched only some files of the repo
        server.clearLog();
        assertEquals(dir, hub().resolveModel(REPO, null));
        assertTrue(Files.isRegularFile(dir.resolve("tokenizer.json")));
        assertEquals(
                0,
                server.requests().stream()
                        .filter(r -> r.method().equals("GET") && r.path().contains("/resolve/"))
                        .count(),
                "the blob was still there: only HEADs, no body: " + server.requests());
    }

    void assertNoPartialFiles() throws IOException {
        if (!Files.exists(cache)) return;
        try (Stream<Path> s = Files.walk(cache)) {
            List<Path> bad = s.filter(p -> p.toString().endsWith(".incomplete")
                            || p.toString().endsWith(".tmp")
                            || p.toString().endsWith(".tmp-link"))
                    .toList();
            assertEquals(List.of(), bad);
        }
    }

    void assertNoPartialFilesExceptIncomplete() throws IOException {
        try (Stream<Path> s = Files.walk(cache)) {
            assertEquals(
                    List.of(),
                    s.filter(p -> p.toString().endsWith(".tmp") || p.toString().endsWith(".tmp-link"))
                            .toList());
        }
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /**
     * A fake Hugging Face Hub: the revision API, resolve URLs (HEAD and GET; LFS files answer with a 302 to a second
     * server standing for the CDN, as the real Hub does), Range requests, and switches for failures.
     */
    static final class FakeHub implements AutoCloseable {
        record Repo(String sha, Map<String, byte[]> files, Set<String> lfs) {
            String etag(String f) {
                try {
                    if (lfs.contains(f)) return sha256(files.get(f));
                    // a git blob id, as the Hub sends for a regular file
                    MessageDigest md = MessageDigest.getInstance("SHA-1");
                    md.update(("blob " + files.get(f).length + "\0").getBytes(StandardCharsets.UTF_8));
                    return HexFormat.of().formatHex(md.digest(files.get(f)));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }

        record Req(String server, String method, String path, String range, String auth, int status) {}

        final HttpServer hub, cdn;
        final ExecutorService pool = Executors.newFixedThreadPool(4);
        final Map<String, Repo> repos = new ConcurrentHashMap<>();
        final List<Req> log = new ArrayList<>();
        volatile String requiredToken;
        volatile int cutTimes;
        volatile int fail500;
        volatile boolean fail500OnCdn, ignoreRange, corruptLfs;

        FakeHub() throws IOException {
            hub = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            cdn = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            hub.createContext("/", ex -> handle(ex, "hub"));
            cdn.createContext("/", ex -> handle(ex, "cdn"));
            hub.setExecutor(pool);
            cdn.setExecutor(pool);
            hub.start();
            cdn.start();
        }

        String endpoint() {
            return "http://127.0.0.1:" + hub.getAddress().getPort();
        }

        void addRepo(String type, String id, Map<String, byte[]> files, Set<String> lfs) throws IOException {
            String sha = HexFormat.of()
                    .formatHex(Arrays.copyOf(sha1((type + "/" + id).getBytes(StandardCharsets.UTF_8)), 20));
            repos.put(type + "/" + id, new Repo(sha, files, lfs));
        }

        Repo repo(String type, String id) {
            return repos.get(type + "/" + id);
        }

        synchronized List<Req> requests() {
            return List.copyOf(log);
        }

        synchronized void clearLog() {
            log.clear();
        }

        private static byte[] sha1(byte[] b) {
            try {
                return MessageDigest.getInstance("SHA-1").digest(b);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        private void handle(HttpExchange ex, String which) throws IOException {
            try {
                int status = route(ex, which);
                synchronized (this) {
                    log.add(new Req(
                            which,
                            ex.getRequestMethod(),
                            ex.getRequestURI().getRawPath(),
                            ex.getRequestHeaders().getFirst("Range"),
                            ex.getRequestHeaders().getFirst("Authorization"),
                            status));
                }
            } catch (IOException cut) {
                // the cut connection of a test: the client sees a short body
            } finally {
                ex.close();
            }
        }

        private int route(HttpExchange ex, String which) throws IOException {
            String path = ex.getRequestURI().getRawPath();
            boolean head = ex.getRequestMethod().equals("HEAD");
            if (which.equals("cdn")) {
                if (fail500OnCdn) return empty(ex, 500, Map.of());
                for (Repo r : repos.values()) {
                    for (String f : r.lfs()) {
                        if (path.equals("/blob/" + r.etag(f))) {
                            byte[] b = r.files().get(f);
                            if (corruptLfs) {
                                b = b.clone();
                                b[b.length / 3] ^= 1;
                            }
                            return body(ex, b, true);
                        }
                    }
                }
                return empty(ex, 404, Map.of());
            }
            if (fail500 > 0) {
                fail500--;
                return empty(ex, 500, Map.of());
            }
            if (requiredToken != null
                    && !("Bearer " + requiredToken)
                            .equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                return empty(
                        ex,
                        401,
                        Map.of("X-Error-Code", "GatedRepo", "X-Error-Message", "Access to this model is restricted."));
            }
            List<String> parts = new ArrayList<>();
            for (String p : path.substring(1).split("/")) parts.add(URLDecoder.decode(p, StandardCharsets.UTF_8));
            if (parts.size() == 6 && parts.get(0).equals("api") && parts.get(4).equals("revision") && !head) {
                String type = parts.get(1).equals("datasets") ? "dataset" : "model";
                Repo r = repo(type, parts.get(2) + "/" + parts.get(3));
                if (r == null) return empty(ex, 404, Map.of("X-Error-Code", "RepoNotFound"));
                String rev = parts.get(5);
                if (!rev.equals("main") && !rev.equals(r.sha()))
                    return empty(ex, 404, Map.of("X-Error-Code", "RevisionNotFound"));
                JsonObject o = new JsonObject();
                o.addProperty("id", parts.get(2) + "/" + parts.get(3));
                o.addProperty("sha", r.sha());
                JsonArray sib = new JsonArray();
                for (String f : r.files().keySet()) {
                    JsonObject s = new JsonObject();
                    s.addProperty("rfilename", f);
                    sib.add(s);
                }
                o.add("siblings", sib);
                return body(ex, o.toString().getBytes(StandardCharsets.UTF_8), false);
            }
            String type = "model";
            if (!parts.isEmpty() && parts.get(0).equals("datasets")) {
                type = "dataset";
                parts.remove(0);
            }
            if (parts.size() >= 5 && parts.get(2).equals("resolve")) {
                Repo r = repo(type, parts.get(0) + "/" + parts.get(1));
                if (r == null) return empty(ex, 404, Map.of("X-Error-Code", "RepoNotFound"));
                String rev = parts.get(3);
                if (!rev.equals("main") && !rev.equals(r.sha()))
                    return empty(ex, 404, Map.of("X-Error-Code", "RevisionNotFound"));
                String file = String.join("/", parts.subList(4, parts.size()));
                byte[] b = r.files().get(file);
                if (b == null) return empty(ex, 404, Map.of("X-Error-Code", "EntryNotFound"));
                ex.getResponseHeaders().set("X-Repo-Commit", r.sha());
                if (r.lfs().contains(file)) {
                    ex.getResponseHeaders().set("X-Linked-Etag", "\"" + r.etag(file) + "\"");
                    ex.getResponseHeaders().set("X-Linked-Size", Long.toString(b.length));
                    // the pointer file's
                    ex.getResponseHeaders().set("ETag", "\"0123456789abcdef0123456789abcdef01234567\"");
                    ex.getResponseHeaders()
                            .set(
                                    "Location",
                                    "http://127.0.0.1:" + cdn.getAddress().getPort() + "/blob/" + r.etag(file)
                                            + "?sig=x");
                    return empty(ex, 302, Map.of());
                }
                ex.getResponseHeaders().set("ETag", "W/\"" + r.etag(file) + "\"");
                if (head) {
                    ex.getResponseHeaders().set("Content-Length", Long.toString(b.length));
                    ex.sendResponseHeaders(200, -1);
                    return 200;
                }
                return body(ex, b, false);
            }
            return empty(ex, 404, Map.of());
        }

        private static int empty(HttpExchange ex, int status, Map<String, String> headers) throws IOException {
            headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
            ex.sendResponseHeaders(status, -1);
            return status;
        }

        /** Sends {@code b} (or the asked range of it); may cut the connection halfway through a blob. */
        private int body(HttpExchange ex, byte[] b, boolean mayCut) throws IOException {
            String range = ex.getRequestHeaders().getFirst("Range");
            int from = 0;
            int status = 200;
            if (range != null && !ignoreRange && range.matches("bytes=\\d+-")) {
                from = Integer.parseInt(range.substring(6, range.length() - 1));
                status = 206;
                ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (b.length - 1) + "/" + b.length);
            }
            if (ex.getRequestMethod().equals("HEAD")) {
                ex.getResponseHeaders().set("Content-Length", Integer.toString(b.length - from));
                ex.sendResponseHeaders(status, -1);
                return status;
            }
            ex.sendResponseHeaders(status, b.length - from);
            OutputStream os = ex.getResponseBody();
            if (mayCut && cutTimes > 0) {
                cutTimes--;
                synchronized (this) {
                    log.add(new Req(
                            "cdn",
                            "GET",
                            ex.getRequestURI().getRawPath(),
                            range,
                            ex.getRequestHeaders().getFirst("Authorization"),
                            status));
                }
                os.write(b, from, Math.max(0, b.length / 2 - from));
                os.flush();
                throw new IOException("cut"); // handle() closes the exchange with bytes missing: the connection drops
            }
            os.write(b, from, b.length - from);
            return status;
        }

        @Override
        public void close() {
            hub.stop(0);
            cdn.stop(0);
            pool.shutdownNow();
        }
    }
}
