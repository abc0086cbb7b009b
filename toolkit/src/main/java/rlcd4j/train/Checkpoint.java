package rlcd4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import rlcd4j.engine.llama.Safetensors;
import rlcd4j.util.Json;
import rlcd4j.util.RlcdException;

/**
 * A training checkpoint: {@code checkpoint-<step>/} holding the trainable tensors, the optimiser moments and
 * {@code trainer_state.json} (step, data position, seed, config). It is written to a temporary folder and renamed
 * into place, so a kill at any moment leaves either the previous checkpoint or the new one, never half of one.
 */
public final class Checkpoint {
    public static final String TENSORS = "trainable.safetensors";
    public static final String OPTIMIZER = "optimizer.safetensors";
    public static final String STATE = "trainer_state.json";

    private Checkpoint() {}

    /** Saves and returns the checkpoint folder; keeps only the newest {@code keep} checkpoints (0: keep all). */
    public static Path save(
            Path outDir, long step, Map<String, NDArray> trainable, AdamW optimizer, JsonObject state, int keep) {
        Path dir = outDir.resolve("checkpoint-" + step);
        Path tmp = outDir.resolve("checkpoint-" + step + ".tmp");
        try {
            deleteRecursively(tmp);
            Files.createDirectories(tmp);
            Safetensors.write(tmp.resolve(TENSORS), trainable, null);
            Safetensors.write(tmp.resolve(OPTIMIZER), optimizer.state(), null);
            JsonObject s = state.deepCopy();
            s.addProperty("step", step);
            s.addProperty("optimizer_step", optimizer.stepCount());
            Files.writeString(tmp.resolve(STATE), Json.PRETTY.toJson(s), StandardCharsets.UTF_8);
            deleteRecursively(dir);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            if (keep > 0) {
                List<Path> all = list(outDir);
                for (int i = 0; i < all.size() - keep; i++) deleteRecursively(all.get(i));
            }
            return dir;
        } catch (IOException e) {
            throw new RlcdException(dir + ": cannot save checkpoint: " + e.getMessage(), e);
        }
    }

    /** The newest complete checkpoint under {@code outDir}, or null. */
    public static Path latest(Path outDir) {
        List<Path> all = list(outDir);
        return all.isEmpty() ? null : all.get(all.size() - 1);
    }

    private static List<Path> list(Path outDir) {
        if (!Files.isDirectory(outDir)) return List.of();
        try (Stream<Path> s = Files.list(outDir)) {
            return s.filter(p -> p.getFileName().toString().matches("checkpoint-\\d+"))
                    .filter(p -> Files.exists(p.resolve(STATE)))
                    .sorted(Comparator.comparingLong(
                            p -> Long.parseLong(p.getFileName().toString().substring(11))))
                    .toList();
        } catch (IOException e) {
            throw new RlcdException(outDir + ": cannot list checkpoints: " + e.getMessage(), e);
        }
    }

    /**
     * Copies {@code src} into {@code dst} in place (same storage, so views of it, such as the engine's stacked
     * projections, see the new values); converts the dtype if needed.
     */
    public static void assign(NDArray dst, NDArray src) {
        dst.set(
                new NDIndex().addAllDim(),
                src.getDataType() == dst.getDataType() ? src : src.toType(dst.getDataType(), false));
    }

    /**
     * Copies the saved tensors into {@code trainable} in place (the arrays keep their identity and gradients), restores
     * the optimiser, and returns the saved state.
     */
    public static JsonObject restore(Path dir, Map<String, NDArray> trainable, AdamW optimizer, NDManager manager) {
        JsonObject state;
        try {
            state = JsonParser.parseString(Files.readString(dir.resolve(STATE))).getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            throw new RlcdException(dir.resolve(STATE) + ": unreadable: " + e.getMessage(), e);
        }
        try (NDManager m = manager.newSubManager()) {
            Map<String, NDArray> saved = Safetensors.loadAll(m, dir.resolve(TENSORS), null);
            for (var e : trainable.entrySet()) {
                NDArray s = saved.get(e.getKey());
                if (s == null)
                    throw new RlcdException(dir.resolve(TENSORS) + ": tensor " + e.getKey()
                            + " is missing; the checkpoint is from another model or setup");
                if (!s.getShape().equals(e.getValue().getShape())) {
                    throw new RlcdException(dir.resolve(TENSORS) + ": tensor " + e.getKey() + " has shape "
                            + s.getShape() + "; expected " + e.getValue().getShape());
                }
                assign(e.getValue(), s);
            }
            optimizer.restore(
                    Safetensors.loadAll(m, dir.resolve(OPTIMIZER), null),
                    state.get("optimizer_step").getAsLong());
        }
        return state;
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }
}
