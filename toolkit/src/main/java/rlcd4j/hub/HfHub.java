package rlcd4j.hub;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import rlcd4j.progress.Progress;
import rlcd4j.util.RlcdException;

/**
 * Where models (and datasets) come from: a local folder; the Hugging Face cache that Python users already have
 * ({@code HF_HUB_CACHE}, else {@code HF_HOME/hub}, else {@code ~/.cache/huggingface/hub}); or a download from the Hub.
 *
 * <p>Downloads write exactly the layout {@code huggingface_hub} writes, so Python and Java share one cache and nothing
 * is downloaded twice:
 * <pre>
 * models--org--name/blobs/&lt;etag&gt;                       the bytes, named by the file's ETag (sha256 for LFS files)
 * models--org--name/snapshots/&lt;commit&gt;/&lt;file&gt;         relative symlink to ../../blobs/&lt;etag&gt; (a copy if links fail)
 * models--org--name/refs/&lt;branch or tag&gt;               the commit it pointed to
 * </pre>
 * A blob is written as {@code blobs/<etag>.incomplete}, resumed with an HTTP Range request after a cut connection,
 * checked for size (and sha256 for LFS files), then renamed into place: a final name only ever holds a whole file.
 */
public final class HfHub {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

    private static final Map<Path, Object> LOCKS = new ConcurrentHashMap<>();
    private static final HexFormat HEX = HexFormat.of();

    private final Path cacheDir;
    private final boolean offline;
    private final String endpoint;
    private final String token;
    private final int attempts;
    private final Duration firstBackoff;
    private final HttpClient http;

    /** A hub reading and writing {@code cacheDir}, talking to huggingface.co without a token. */
    public HfHub(Path cacheDir, boolean offline) {
        this(cacheDir, offline, DEFAULT_ENDPOINT, null);
    }

    /**
     * @param endpoint the Hub's base URL ({@code HF_ENDPOINT}), e.g. {@code https://huggingface.co}
     * @param token    a user access token ({@code HF_TOKEN}) or null; sent as {@code Authorization: Bearer} to the
     *                 endpoint's host only, never printed
     */
    public HfHub(Path cacheDir, boolean offline, String endpoint, String token) {
        this(cacheDir, offline, endpoint, token, 4, Duration.ofSeconds(1));
    }

    private HfHub(Path cacheDir, boolean offline, String endpoint, String token, int attempts, Duration firstBackoff) {
        this.cacheDir = cacheDir.toAbsolutePath().normalize();
        this.offline = offline;
        this.endpoint = endpoint.replaceAll("/+$", "");
        this.token = token == null || token.isBlank() ? null : token.trim();
        this.attempts = attempts;
        this.firstBackoff = firstBackoff;
        // Redirects are followed by hand: HEAD must see the 302 of an LFS file, and the token must not follow a
        // redirect to another host (the CDN's URL is pre-signed).
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(20))
                .build();
    }

    /**
     * Settings from the environment, as huggingface_hub reads them: {@code HF_HUB_CACHE} / {@code HF_HOME} /
     * {@code XDG_CACHE_HOME}, {@code HF_ENDPOINT}, {@code HF_TOKEN} (else the token file {@code huggingface-cli login}
     * writes) and {@code HF_HUB_OFFLINE}.
     */
    public static HfHub fromEnvironment() {
        Map<String, String> env = System.getenv();
        Path home;
        if (env.get("HF_HOME") != null) home = Paths.get(env.get("HF_HOME"));
        else if (env.get("XDG_CACHE_HOME") != null) home = Paths.get(env.get("XDG_CACHE_HOME"), "huggingface");
        else home = Paths.get(System.getProperty("user.home"), ".cache", "huggingface");
        Path cache = env.get("HF_HUB_CACHE") != null ? Paths.get(env.get("HF_HUB_CACHE")) : home.resolve("hub");
        String off = env.getOrDefault("HF_HUB_OFFLINE", "").trim();
        boolean offline = Set.of("1", "on", "yes", "true").contains(off.toLowerCase());
        String token = env.get("HF_TOKEN");
        if (token == null) token = env.get("HUGGING_FACE_HUB_TOKEN");
        if (token == null) {
            Path tokenFile =
                    env.get("HF_TOKEN_PATH") != null ? Paths.get(env.get("HF_TOKEN_PATH")) : home.resolve("token");
            try {
                if (Files.isRegularFile(tokenFile))
                    token = Files.readString(tokenFile).trim();
            } catch (IOException e) {
                token = null; // an unreadable token file is the same as none: public repos still work
            }
        }
        return new HfHub(cache, offline, env.getOrDefault("HF_ENDPOINT", DEFAULT_ENDPOINT), token);
    }

    /** The same hub with another retry policy: {@code attempts} tries per request, waits doubling from {@code firstBackoff}. */
    public HfHub withRetries(int attempts, Duration firstBackoff) {
        if (attempts < 1) throw new IllegalArgumentException("attempts must be at least 1, got " + attempts);
        return new HfHub(cacheDir, offline, endpoint, token, attempts, firstBackoff);
    }

    public Path cacheDir() {
        return cacheDir;
    }

    public boolean offline() {
        return offline;
    }

    public String endpoint() {
        return endpoint;
    }

    @Override
    public String toString() {
        return "HfHub(" + endpoint + ", cache " + cacheDir + (offline ? ", offline" : "")
                + (token != null ? ", with token" : "") + ")";
    }

    // ------------------------------------------------------------------------------------------------ models

    /**
     * A model folder for {@code nameOrPath}: the folder itself if it exists; else the cached snapshot of the repo at
     * {@code revision} (null: {@code main}) if it holds a whole model; else the model downloaded from the Hub (unless
     * offline). A cached snapshot is used without asking the Hub whether the branch has moved: pass a commit hash as
     * {@code revision} to pin one.
     */
    public Path resolveModel(String nameOrPath, String revision) {
        Path local = Paths.get(nameOrPath);
        if (Files.isDirectory(local)) return local;
        if (!isRepoId(nameOrPath)) {
            throw new RlcdException(
                    nameOrPath + ": no such folder, and not a Hugging Face repo id (expected org/name)");
        }
        String rev = revision == null || revision.isBlank() ? "main" : revision;
        Path cached = cachedSnapshot("model", nameOrPath, rev);
        if (cached != null && missingModelFiles(cached).isEmpty()) return cached;
        if (offline) {
            throw new RlcdException(
                    nameOrPath + (rev.equals("main") ? "" : "@" + rev) + ": not a local folder, and "
                            + (cached == null
                                    ? "not in the Hugging Face cache at " + cacheDir
                                    : "its cached snapshot " + cached + " lacks " + missingModelFiles(cached))
                            + "; HF_HUB_OFFLINE=1 forbids downloading it (unset HF_HUB_OFFLINE, or download it once while online)");
        }
        return downloadModel(nameOrPath, rev);
    }

    /** Required files a model folder lacks: config.json, tokenizer.json, and the safetensors weights (all shards). */
    public static List<String> missingModelFiles(Path dir) {
        List<String> missing = new ArrayList<>();
        for (String f : List.of("config.json", "tokenizer.json"))
            if (!Files.isRegularFile(dir.resolve(f))) missing.add(f);
        if (Files.isRegularFile(dir.resolve("model.safetensors"))) return missing;
        Path index = dir.resolve("model.safetensors.index.json");
        if (!Files.isRegularFile(index)) {
            missing.add("model.safetensors");
            return missing;
        }
        try {
            for (String shard : shardsOf(Files.readString(index), index.toString())) {
                if (!Files.isRegularFile(dir.resolve(shard))) missing.add(shard);
            }
        } catch (IOException | RlcdException e) {
            missing.add("model.safetensors.index.json");
        }
        return missing;
    }

    private Path downloadModel(String repoId, String revision) {
        JsonObject info = getJson("model", repoId, revision);
        String commit = stringField(info, "sha", repoId);
        Set<String> siblings = new LinkedHashSet<>();
        if (info.has("siblings") && info.get("siblings").isJsonArray()) {
            for (JsonElement s : info.getAsJsonArray("siblings")) {
                if (s.isJsonObject() && s.getAsJsonObject().has("rfilename"))
                    siblings.add(s.getAsJsonObject().get("rfilename").getAsString());
            }
        }
        String where = "Hugging Face repo " + repoId + " at revision " + revision;
        for (String f : List.of("config.json", "tokenizer.json")) {
            if (!siblings.contains(f)) {
                throw new RlcdException(where + " has no " + f + "; expected a transformers model with a fast tokenizer"
                        + (f.equals("tokenizer.json") && siblings.contains("tokenizer.model")
                                ? " (it has only a SentencePiece tokenizer.model)"
                                : ""));
            }
        }
        List<String> files = new ArrayList<>(List.of("config.json", "tokenizer.json"));
        for (String f : List.of("generation_config.json", "tokenizer_config.json", "special_tokens_map.json")) {
            if (siblings.contains(f)) files.add(f);
        }
        if (siblings.contains("model.safetensors")) {
            files.add("model.safetensors");
        } else if (siblings.contains("model.safetensors.index.json")) {
            Path index = downloadFile("model", repoId, commit, "model.safetensors.index.json");
            try {
                files.addAll(shardsOf(Files.readString(index), index.toString()));
            } catch (IOException e) {
                throw new RlcdException(index + ": cannot read: " + e.getMessage(), e);
            }
        } else {
            throw new RlcdException(where
                    + " has no model.safetensors and no model.safetensors.index.json; expected safetensors weights"
                    + (siblings.contains("pytorch_model.bin")
                            ? " (it has only pytorch_model.bin, a pickle this engine does not read)"
                            : ""));
        }
        fetchAll("model", repoId, commit, files, "download " + repoId);
        if (!revision.equals(commit)) writeRef("model", repoId, revision, commit);
        Path snap = repoFolder("model", repoId).resolve("snapshots").resolve(commit);
        List<String> missing = missingModelFiles(snap);
        if (!missing.isEmpty())
            throw new RlcdException(snap + ": still lacks " + missing + " after downloading " + where);
        return snap;
    }

    /** The distinct shard files named by a {@code model.safetensors.index.json}. */
    static List<String> shardsOf(String indexJson, String where) {
        JsonObject idx;
        try {
            idx = JsonParser.parseString(indexJson).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new RlcdException(where + ": malformed JSON: " + e.getMessage(), e);
        }
        if (!idx.has("weight_map") || !idx.get("weight_map").isJsonObject()) {
            throw new RlcdException(where + ": field weight_map is missing; expected {tensor name: shard file}");
        }
        Set<String> shards = new LinkedHashSet<>();
        for (var e : idx.getAsJsonObject("weight_map").entrySet())
            shards.add(safeFilename(e.getValue().getAsString(), where));
        return new ArrayList<>(shards);
    }

    // ------------------------------------------------------------------------------------------------ files

    /**
     * One file of a repo ({@code repoType} "model" or "dataset"; revision null: {@code main}), from the cache if it is
     * there (no request at all), else downloaded into the cache. E.g. {@code downloadFile("dataset",
     * "Anthropic/hh-rlhf", null, "harmless-base/test.jsonl.gz")}.
     */
    public Path downloadFile(String repoType, String repoId, String revision, String filename) {
        checkType(repoType);
        if (!isRepoId(repoId)) throw new RlcdException(repoId + ": not a Hugging Face repo id (expected org/name)");
        safeFilename(filename, repoId);
        String rev = revision == null || revision.isBlank() ? "main" : revision;
        Path snap = cachedSnapshot(repoType, repoId, rev);
        if (snap != null && Files.isRegularFile(snap.resolve(filename))) return snap.resolve(filename);
        if (offline) {
            throw new RlcdException(repoType + " " + repoId + (rev.equals("main") ? "" : "@" + rev) + ": " + filename
                    + " is not in the Hugging Face cache at " + cacheDir + "; HF_HUB_OFFLINE=1 forbids downloading it");
        }
        Remote r = fetchAll(repoType, repoId, rev, List.of(filename), "download " + filename)
                .get(0);
        if (!rev.equals(r.commit())) writeRef(repoType, repoId, rev, r.commit());
        return repoFolder(repoType, repoId)
                .resolve("snapshots")
                .resolve(r.commit())
                .resolve(filename);
    }

    /** The snapshot folder of a cached repo at a revision (branch, tag or commit), or null. */
    public Path cachedSnapshot(String repoType, String repoId, String revision) {
        Path repo = repoFolder(repoType, repoId);
        String commit = revision;
        Path ref = repo.resolve("refs").resolve(revision);
        try {
            if (Files.isRegularFile(ref)) commit = Files.readString(ref).trim();
        } catch (IOException e) {
            throw new RlcdException(ref + ": cannot read: " + e.getMessage(), e);
        }
        if (commit.isEmpty() || commit.contains("/") || commit.startsWith(".")) return null;
        Path snap = repo.resolve("snapshots").resolve(commit);
        return Files.isDirectory(snap) ? snap : null;
    }

    /** {@code <cache>/models--org--name} (or {@code datasets--...}). */
    public Path repoFolder(String repoType, String repoId) {
        checkType(repoType);
        return cacheDir.resolve(repoType + "s--" + repoId.replace("/", "--"));
    }

    /** What a HEAD of a file's resolve URL says: its commit, blob name, size, and where its bytes are. */
    private record Remote(String filename, String commit, String etag, long size, URI location) {}

    /** HEADs every file (so progress knows the total), then downloads those not yet in the snapshot. */
    private List<Remote> fetchAll(String repoType, String repoId, String revision, List<String> files, String label) {
        List<Remote> remotes = new ArrayList<>();
        long total = 0;
        for (String f : files) {
            Remote r = head(repoType, repoId, revision, f);
            remotes.add(r);
            total += Math.max(0, r.size());
        }
        Path repo = repoFolder(repoType, repoId);
        try (Progress p = Progress.start(label, total)) {
            for (Remote r : remotes) {
                Path pointer = repo.resolve("snapshots").resolve(r.commit()).resolve(r.filename());
                if (Files.isRegularFile(pointer)) {
                    p.advance(Math.max(0, r.size()));
                    continue;
                }
                Path blob = repo.resolve("blobs").resolve(r.etag());
                withLock(blob, () -> {
                    if (Files.isRegularFile(blob)) p.advance(Math.max(0, r.size()));
                    else fetchBlob(r, repoId, blob, p);
                    link(pointer, blob);
                });
            }
        }
        return remotes;
    }

    private Remote head(String repoType, String repoId, String revision, String filename) {
        URI url = URI.create(endpoint + (repoType.equals("dataset") ? "/datasets/" : "/") + repoId + "/resolve/"
                + encode(revision) + "/" + encodePath(filename));
        String what = repoType + " " + repoId + " file " + filename + " at revision " + revision;
        // Like huggingface_hub: follow relative redirects (a renamed repo), stop at an absolute one (LFS bytes on a
        // CDN).
        for (int hop = 0; hop < 10; hop++) {
            HttpResponse<InputStream> resp =
                    send(request(url, 0).method("HEAD", HttpRequest.BodyPublishers.noBody()), what, true);
            close(resp);
            int s = resp.statusCode();
            String location = resp.headers().firstValue("Location").orElse(null);
            if (isRedirect(s) && location != null && location.startsWith("/") && !location.startsWith("//")) {
                url = url.resolve(location);
                continue;
            }
            if (s >= 400) throw httpError(resp, what, repoId, revision);
            String commit = resp.headers().firstValue("X-Repo-Commit").orElse(null);
            String etag = resp.headers()
                    .firstValue("X-Linked-Etag")
                    .or(() -> resp.headers().firstValue("ETag"))
                    .map(HfHub::stripEtag)
                    .orElse(null);
            if (commit == null || etag == null) {
                throw new RlcdException(url + ": the server did not send X-Repo-Commit and ETag for " + what
                        + "; expected a Hugging Face Hub endpoint (HF_ENDPOINT is " + endpoint + ")");
            }
            if (!commit.matches("[A-Za-z0-9]+") || !etag.matches("[A-Za-z0-9._-]+") || etag.startsWith(".")) {
                throw new RlcdException(
                        url + ": unexpected commit \"" + commit + "\" or ETag \"" + etag + "\" for " + what);
            }
            long size = resp.headers()
                    .firstValue("X-Linked-Size")
                    .or(() -> resp.headers().firstValue("Content-Length"))
                    .map(Long::parseLong)
                    .orElse(-1L);
            URI loc = location != null && isRedirect(s) ? url.resolve(location) : url;
            return new Remote(filename, commit, etag, size, loc);
        }
        throw new RlcdException(url + ": too many redirects for " + what);
    }

    /**
     * Downloads the bytes of {@code r} into {@code blob}, through {@code blob.incomplete}: resumes what an earlier try
     * left (Range request), restarts if the server ignores the range, retries server errors and cut connections with
     * backoff, and renames only a file of the expected size (and sha256, for LFS files).
     */
    private void fetchBlob(Remote r, String repoId, Path blob, Progress p) {
        Path part = blob.resolveSibling(blob.getFileName() + ".incomplete");
        String what = repoId + " file " + r.filename();
        long counted = 0; // bytes of this file already reported to p
        String lastProblem = "";
        try {
            Files.createDirectories(blob.getParent());
            for (int attempt = 1; attempt <= attempts; attempt++) {
                if (attempt > 1) sleep(attempt - 1);
                long have = Files.exists(part) ? Files.size(part) : 0;
                if (r.size() >= 0 && have > r.size()) {
                    Files.delete(part); // longer than the file: not a prefix of it
                    have = 0;
                }
                if (have > counted) {
                    p.advance(have - counted);
                    counted = have;
                }
                if (r.size() < 0 || have < r.size()) {
                    HttpResponse<InputStream> resp = get(r.location(), have, what, repoId, r.commit());
                    int s = resp.statusCode();
                    if (s == 500 || s == 502 || s == 503 || s == 504 || s == 429) {
                        close(resp);
                        lastProblem = "HTTP " + s + " from " + hostOf(r.location());
                        continue;
                    }
                    if (s == 416 && r.size() >= 0 && have == r.size()) {
                        close(resp);
                    } else if (s != 200 && s != 206) {
                        close(resp);
                        throw httpError(resp, what, repoId, r.commit());
                    } else {
                        String range = "bytes " + have + "-";
                        boolean append = s == 206
                                && resp.headers()
                                        .firstValue("Content-Range")
                                        .map(cr -> cr.startsWith(range))
                                        .orElse(false);
                        if (!append) { // the server sent the whole file (ignored Range), or another range: start over
                            p.set(p.done() - counted);
                            counted = 0;
                            if (s == 206) {
                                close(resp);
                                Files.deleteIfExists(part);
                                lastProblem = "the server answered another range than " + range;
                                continue;
                            }
                        }
                        try (InputStream in = resp.body();
                                OutputStream out = Files.newOutputStream(
                                        part,
                                        StandardOpenOption.CREATE,
                                        StandardOpenOption.WRITE,
                                        append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
                            byte[] buf = new byte[1 << 16];
                            for (int n; (n = in.read(buf)) >= 0; ) {
                                out.write(buf, 0, n);
                                p.advance(n);
                                counted += n;
                            }
                        } catch (IOException cut) {
                            lastProblem = "connection cut at " + Files.size(part) + " bytes (" + cut.getMessage() + ")";
                            continue;
                        }
                    }
                }
                long got = Files.size(part);
                if (r.size() >= 0 && got != r.size()) {
                    lastProblem = "got " + got + " of " + r.size() + " bytes";
                    continue;
                }
                if (r.etag().matches("[0-9a-f]{64}")) { // an LFS file: its ETag is the sha256 of its bytes
                    String sha = sha256(part);
                    if (!sha.equals(r.etag())) {
                        Files.delete(part);
                        throw new RlcdException(what + ": downloaded " + got + " bytes whose sha256 is " + sha
                                + " but the Hub says " + r.etag() + "; the partial file was deleted, try again");
                    }
                }
                Files.move(part, blob, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                return;
            }
        } catch (IOException e) {
            throw new RlcdException(blob + ": cannot write " + what + ": " + e.getMessage(), e);
        }
        long kept = 0;
        try {
            kept = Files.exists(part) ? Files.size(part) : 0;
        } catch (IOException ignored) {
            // the size is only for the message
        }
        throw new RlcdException(
                what + ": download failed after " + attempts + " attempts (" + lastProblem + "); expected "
                        + (r.size() >= 0 ? r.size() + " bytes" : "the whole file") + ". The " + kept
                        + " bytes received are kept in " + part
                        + " and the next call resumes from there");
    }

    /** GET following redirects; Range from {@code from} when positive. */
    private HttpResponse<InputStream> get(URI url, long from, String what, String repoId, String revision) {
        for (int hop = 0; hop < 10; hop++) {
            HttpResponse<InputStream> resp = send(request(url, from).GET(), what, false);
            String location = resp.headers().firstValue("Location").orElse(null);
            if (isRedirect(resp.statusCode()) && location != null) {
                close(resp);
                url = url.resolve(location);
                continue;
            }
            return resp;
        }
        throw new RlcdException(url + ": too many redirects for " + what);
    }

    /** GETs the Hub API's description of a repo at a revision ({@code sha}, {@code siblings}), retrying server errors. */
    private JsonObject getJson(String repoType, String repoId, String revision) {
        URI url = URI.create(endpoint + "/api/" + repoType + "s/" + repoId + "/revision/" + encode(revision));
        String what = repoType + " " + repoId + " at revision " + revision;
        HttpResponse<InputStream> resp = send(request(url, 0).GET(), what, true);
        if (resp.statusCode() != 200) {
            close(resp);
            throw httpError(resp, what, repoId, revision);
        }
        try (InputStream in = resp.body()) {
            JsonElement e = JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            if (!e.isJsonObject()) throw new RlcdException(url + ": expected a JSON object describing " + what);
            return e.getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            if (e instanceof RlcdException re) throw re;
            throw new RlcdException(url + ": malformed answer for " + what + ": " + e.getMessage(), e);
        }
    }

    private HttpRequest.Builder request(URI url, long from) {
        HttpRequest.Builder b = HttpRequest.newBuilder(url)
                .timeout(Duration.ofSeconds(60))
                .header("User-Agent", "rlcd4j/0.1; java/" + Runtime.version().feature())
                .header("Accept-Encoding", "identity");
        if (from > 0) b.header("Range", "bytes=" + from + "-");
        if (token != null && sameHost(url)) b.header("Authorization", "Bearer " + token);
        return b;
    }

    /**
     * Sends a request; with {@code retryServerErrors}, 5xx and 429 answers are retried with backoff. No network at all
     * is one clear error.
     */
    private HttpResponse<InputStream> send(HttpRequest.Builder req, String what, boolean retryServerErrors) {
        HttpRequest r = req.build();
        HttpResponse<InputStream> resp = null;
        for (int attempt = 1; attempt <= attempts; attempt++) {
            if (attempt > 1) sleep(attempt - 1);
            try {
                resp = http.send(r, HttpResponse.BodyHandlers.ofInputStream());
            } catch (ConnectException | HttpConnectTimeoutException | UnknownHostException e) {
                throw noNetwork(r.uri(), what, e);
            } catch (IOException e) {
                if (e.getCause() instanceof UnresolvedAddressException) throw noNetwork(r.uri(), what, e);
                if (attempt == attempts)
                    throw new RlcdException(
                            hostOf(r.uri()) + ": " + what + ": " + e.getMessage() + " (after " + attempts
                                    + " attempts)",
                            e);
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RlcdException(what + ": interrupted", e);
            }
            int s = resp.statusCode();
            if (!retryServerErrors || !(s >= 500 || s == 429)) return resp;
            close(resp);
        }
        return resp; // the last server error, for the caller to report
    }

    private RlcdException noNetwork(URI url, String what, Exception e) {
        // Java's client wraps the cause (often without a message): name it plainly.
        String why = null;
        for (Throwable t = e; t != null && why == null; t = t.getCause()) {
            if (t instanceof UnresolvedAddressException || t instanceof UnknownHostException)
                why = "unknown host " + url.getHost();
            else if (t instanceof HttpConnectTimeoutException) why = "connection timed out";
        }
        for (Throwable t = e; t != null && why == null; t = t.getCause()) why = t.getMessage();
        if (why == null) why = "connection refused";
        return new RlcdException(
                "cannot reach " + url.getScheme() + "://" + url.getAuthority() + " to fetch " + what + " ("
                        + why + "): no network? To work from the "
                        + "Hugging Face cache at " + cacheDir + " only, set HF_HUB_OFFLINE=1",
                e);
    }

    /** One clear message per failure, using the Hub's X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo). */
    private RlcdException httpError(HttpResponse<?> resp, String what, String repoId, String revision) {
        int s = resp.statusCode();
        String code = resp.headers().firstValue("X-Error-Code").orElse("");
        String msg = resp.headers()
                .firstValue("X-Error-Message")
                .map(m -> " (" + m + ")")
                .orElse("");
        String head = what + ": HTTP " + s + " from " + hostOf(resp.uri()) + msg + "; ";
        if (code.equals("GatedRepo") || ((s == 401 || s == 403) && !code.equals("RepoNotFound"))) {
            return new RlcdException(
                    head
                            + (token == null
                                    ? repoId
                                            + " is gated or private: set HF_TOKEN to an access token of an account that may read it (https://huggingface.co/settings/tokens)"
                                    : "the token in HF_TOKEN may not read " + repoId
                                            + "; if it is gated, accept its terms on its page, or check the token's permissions"));
        }
        if (code.equals("RevisionNotFound"))
            return new RlcdException(
                    head + "no revision " + revision + " in " + repoId + "; expected a branch, tag or commit hash");
        if (code.equals("EntryNotFound"))
            return new RlcdException(head + repoId + " has no such file at revision " + revision);
        if (code.equals("RepoNotFound") || s == 404 || s == 401) {
            return new RlcdException(
                    head + "expected an existing repo id (org/name) and revision; check the spelling of " + repoId
                            + " and " + revision + (token == null ? ", and set HF_TOKEN if the repo is private" : ""));
        }
        if (s >= 500 || s == 429)
            return new RlcdException(head + "the server kept failing after " + attempts + " attempts; try again later");
        return new RlcdException(head + "expected 200");
    }

    // ------------------------------------------------------------------------------------------------ cache writes

    /** snapshots/commit/file -> relative link to the blob (as huggingface_hub makes it); a copy where links fail. */
    private static void link(Path pointer, Path blob) {
        try {
            Files.createDirectories(pointer.getParent());
            Path tmp = pointer.resolveSibling(pointer.getFileName() + ".tmp-link");
            Files.deleteIfExists(tmp);
            try {
                Files.createSymbolicLink(tmp, pointer.getParent().relativize(blob));
            } catch (UnsupportedOperationException | IOException | SecurityException noLinks) {
                Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.move(tmp, pointer, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new RlcdException(pointer + ": cannot write to the Hugging Face cache: " + e.getMessage(), e);
        }
    }

    private void writeRef(String repoType, String repoId, String revision, String commit) {
        Path ref = repoFolder(repoType, repoId).resolve("refs").resolve(revision);
        try {
            Files.createDirectories(ref.getParent());
            Path tmp = ref.resolveSibling(ref.getFileName() + ".tmp");
            Files.writeString(tmp, commit);
            Files.move(tmp, ref, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new RlcdException(ref + ": cannot write to the Hugging Face cache: " + e.getMessage(), e);
        }
    }

    private interface IoAction {
        void run() throws IOException;
    }

    /** One writer per blob, across threads (a monitor) and processes (a file lock under {@code .locks}, as huggingface_hub keeps). */
    private void withLock(Path blob, IoAction action) {
        Path lockFile = cacheDir.resolve(".locks")
                .resolve(cacheDir.relativize(blob).getName(0))
                .resolve(blob.getFileName() + ".lock");
        synchronized (LOCKS.computeIfAbsent(lockFile, k -> new Object())) {
            try {
                Files.createDirectories(lockFile.getParent());
                try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                        FileLock ignored = ch.lock()) {
                    action.run();
                }
            } catch (IOException e) {
                throw new RlcdException(blob + ": cannot write to the Hugging Face cache: " + e.getMessage(), e);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static boolean isRepoId(String s) {
        return s.matches("[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?") && !s.contains("..");
    }

    private static void checkType(String repoType) {
        if (!repoType.equals("model") && !repoType.equals("dataset")) {
            throw new RlcdException("repo type " + repoType + ": expected \"model\" or \"dataset\"");
        }
    }

    /** A repo-relative file name that cannot escape the snapshot folder. */
    private static String safeFilename(String f, String where) {
        if (f.isEmpty()
                || f.startsWith("/")
                || f.contains("\\")
                || List.of(f.split("/")).stream().anyMatch(s -> s.isEmpty() || s.equals("..") || s.equals("."))) {
            throw new RlcdException(where + ": file name \"" + f + "\" is not a relative path inside the repo");
        }
        return f;
    }

    private static String stringField(JsonObject o, String field, String where) {
        if (!o.has(field) || !o.get(field).isJsonPrimitive())
            throw new RlcdException(where + ": the Hub's answer has no field " + field);
        return o.get(field).getAsString();
    }

    private static String stripEtag(String etag) {
        String e = etag.trim();
        if (e.startsWith("W/")) e = e.substring(2);
        return e.replace("\"", "");
    }

    private static boolean isRedirect(int s) {
        return s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
    }

    private boolean sameHost(URI url) {
        URI e = URI.create(endpoint);
        return e.getHost() != null && e.getHost().equalsIgnoreCase(url.getHost()) && e.getPort() == url.getPort();
    }

    private static String hostOf(URI u) {
        return u == null ? "?" : u.getScheme() + "://" + u.getAuthority();
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String encodePath(String path) {
        List<String> parts = new ArrayList<>();
        for (String p : path.split("/")) parts.add(encode(p));
        return String.join("/", parts);
    }

    private static void close(HttpResponse<InputStream> resp) {
        try {
            resp.body().close();
        } catch (IOException ignored) {
            // nothing to keep from a body we do not read
        }
    }

    private void sleep(int retry) {
        try {
            Thread.sleep(firstBackoff.toMillis() << Math.min(retry - 1, 6));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RlcdException("interrupted while waiting to retry a download", e);
        }
    }

    private static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) >= 0; ) md.update(buf, 0, n);
            return HEX.formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
