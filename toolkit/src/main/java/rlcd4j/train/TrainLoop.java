package rlcd4j.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rlcd4j.progress.Progress;
import rlcd4j.util.Seeds;
import tech.tablesaw.api.Table;

/**
 * The one training loop every trainer runs on (preference model, SFT, DPO, PPO, pretraining), in the spirit of DJL's
 * {@code EasyTrain.fit} with listeners. A trainer supplies a {@link Task}: the batch and the loss of a step. The loop
 * owns everything else, so it is written once:
 *
 * <pre>
 * resume     newest checkpoint in the output folder, refused if written by another trainer, config or data
 * each step  seed libtorch from (seed, step); task.step: micro-batches, loss * scale, backward (gradients are
 *            zeroed when a run starts, after each update and after a failed step)
 * update     gradients to fp32 / scale; Inf/NaN: skip the step and halve the scale (fp16) or stop (fp32);
 *            global-norm clip; AdamW (fp32 master weights for fp16 parameters) at the schedule's rate
 * listeners  log row (TrainLog), progress, evaluation every evalEvery steps, checkpoint every saveEvery steps
 * </pre>
 *
 * A PPO step holds several optimiser updates (one per minibatch): its task calls {@link StepContext#update()} itself.
 * Every other task leaves it to the loop, which updates once after the step's micro-batches.
 */
public final class TrainLoop {
    private static final Logger LOG = LoggerFactory.getLogger(TrainLoop.class);

    /** What a trainer supplies. */
    public interface Task {
        /**
         * Step {@code step} (0-based): forward and backward passes through {@link StepContext#accumulate}; returns the
         * step's metrics for the log (the loop adds {@code step} before them and {@code grad_norm} after them when
         * the task did not).
         */
        Map<String, Double> step(long step, StepContext ctx);

        /** Held-out metrics, logged with an {@code eval_} prefix every {@code evalEvery} steps and after the last. */
        default Map<String, Double> evaluate() {
            return Map.of();
        }

        /** State beyond weights, optimiser and scaler, saved with each checkpoint (PPO's KL coefficient). */
        default JsonObject state() {
            return new JsonObject();
        }

        /** Restores what {@link #state()} saved. */
        default void restore(JsonObject saved) {}

        /** A short progress line from the step's log row. */
        default String status(Map<String, Double> row) {
            Double loss = row.get("loss");
            return loss == null ? "" : String.format("loss %.4f", loss);
        }
    }

    /** Told about each finished step, in order: the log, progress and checkpoints are listeners. */
    public interface Listener {
        default void onStart(long firstStep, long lastStep) {}

        /** {@code step} is 1-based here: the number of steps done. */
        default void onStep(long step, Map<String, Double> row) {}

        default void onEnd() {}
    }

    /**
     * Settings of a run.
     *
     * @param name            the trainer's name: logs, progress, and the checkpoint's owner
     * @param config          the trainer's settings as JSON: printed at start, saved with checkpoints, compared on resume
     * @param data            a fingerprint of the training data; a checkpoint made on other data is refused
     * @param seed            seeds libtorch at each step (dropout) through {@link Seeds#stepSeed}
     * @param totalSteps      steps in the whole run (the schedule's length)
     * @param schedule        learning rate per step
     * @param maxGradNorm     global gradient-norm clip, 0 for none
     * @param outDir          checkpoints ({@code checkpoint-<step>}) and {@code log.jsonl}; null: in memory only
     * @param saveEvery       checkpoint every this many steps; the last step is always saved
     * @param keepCheckpoints newest checkpoints kept (0 keeps all)
     * @param evalEvery       evaluate every this many steps (0: only after the last)
     */
    public record Settings(
            String name,
            JsonObject config,
            String data,
            long seed,
            long totalSteps,
            LrSchedule schedule,
            double maxGradNorm,
            Path outDir,
            int saveEvery,
            int keepCheckpoints,
            int evalEvery) {}

    private final Settings settings;
    private final Map<String, NDArray> params;
    private final AdamW optimizer;
    private final LossScaler scaler;
    private final NDManager manager;
    private final List<Listener> listeners = new ArrayList<>();
    private TrainLog log;
    private long stepsDone = -1; // -1: not started (resume happens on the first run)
    private Map<String, Double> lastEval = Map.of();

    /**
     * @param params    the trainable tensors by name (marked as requiring gradients)
     * @param optimizer AdamW over {@code params}; the loop owns its steps, the caller closes it
     * @param scaler    {@link LossScaler#dynamic()} when the model computes in fp16, {@link LossScaler#disabled()} else
     */
    public TrainLoop(
            Settings settings, Map<String, NDArray> params, AdamW optimizer, LossScaler scaler, NDManager manager) {
        this.settings = settings;
        this.params = params;
        this.optimizer = optimizer;
        this.scaler = scaler;
        this.manager = manager;
    }

    /** The scaler a model of this precision needs: dynamic for fp16 compute, none for fp32. */
    public static LossScaler scalerFor(DataType computeType) {
        return computeType == DataType.FLOAT16 ? LossScaler.dynamic() : LossScaler.disabled();
    }

    public TrainLoop addListener(Listener l) {
        listeners.add(l);
        return this;
    }

    /** Runs to the last step; returns the whole log (resumed rows included). */
    public Table run(Task task) {
        return runUntil(task, settings.totalSteps());
    }

    /**
     * Runs up to step {@code lastStep} (1-based count of steps done) and returns the log so far; a later call continues.
     * The first call resumes from the newest checkpoint in the output folder.
     */
    public Table runUntil(Task task, long lastStep) {
        if (stepsDone < 0) start(task);
        long end = Math.min(lastStep, settings.totalSteps());
        List<Listener> all = new ArrayList<>(listeners);
        try (Progress p = Progress.start(settings.name(), end)) {
            p.set(stepsDone);
            all.add(new Listener() {
                @Override
                public void onStep(long step, Map<String, Double> row) {
                    p.advance(1);
                    p.status(task.status(row));
                }
            });
            if (settings.outDir() != null) all.add(checkpoints(task));
            all.forEach(l -> l.onStart(stepsDone, end));
            Gradients.zero(params.values()); // an earlier failed run in this JVM must not leak gradients into this one
            for (long step = stepsDone; step < end; step++) {
                Map<String, Double> row = runStep(task, step);
                log.add(row);
                stepsDone = step + 1;
                for (Listener l : all) l.onStep(step + 1, row);
            }
            all.forEach(Listener::onEnd);
        }
        return log.toTable();
    }

    private void start(Task task) {
        Path out = settings.outDir();
        JsonObject resumed =
                Runs.resume(out, settings.name(), settings.config(), settings.data(), params, optimizer, manager);
        stepsDone = resumed == null ? 0 : resumed.get("step").getAsLong();
        if (resumed != null) {
            scaler.restore(resumed.has("loss_scaler") ? resumed.getAsJsonObject("loss_scaler") : null);
            task.restore(resumed);
        }
        Path logFile = out == null ? null : out.resolve("log.jsonl");
        if (resumed == null && logFile != null) deleteOldLog(logFile);
        // Rows logged after the checkpoint (a run killed between checkpoints) are dropped and recomputed.
        log = resumed == null
                ? new TrainLog(settings.name(), logFile)
                : TrainLog.resume(settings.name(), logFile, stepsDone);
        LOG.info(
                "{}{}{}",
                Runs.describe(settings.name(), settings.config()),
                scaler.enabled() ? "; " + scaler : "",
                resumed != null ? "; resuming from step " + stepsDone : "");
    }

    private static void deleteOldLog(Path file) {
        try {
            java.nio.file.Files.deleteIfExists(file);
        } catch (java.io.IOException e) {
            throw new rlcd4j.util.RlcdException(file + ": cannot delete the old log: " + e.getMessage(), e);
        }
    }

    private Map<String, Double> runStep(Task task, long step) {
        Engine.getInstance().setRandomSeed(Seeds.stepSeed(settings.seed(), step));
        StepContext ctx = new StepContext(step);
        Map<String, Double> row = new LinkedHashMap<>();
        row.put("step", (double) (step + 1));
        try {
            row.putAll(task.step(step, ctx));
            if (ctx.updates == 0) ctx.update();
        } catch (RuntimeException | Error e) {
            Gradients.zero(params.values()); // nothing of a failed step may reach the next attempt
            throw e;
        }
        if (!row.containsKey("grad_norm")) row.put("grad_norm", ctx.lastNorm);
        if (scaler.enabled()) {
            row.put("loss_scale", ctx.scaleUsed);
            row.put("skipped", (double) ctx.skipped);
        }
        boolean last = step + 1 == settings.totalSteps();
        int every = settings.evalEvery();
        if (last || (every > 0 && (step + 1) % every == 0)) {
            Map<String, Double> eval = task.evaluate();
            if (!eval.isEmpty()) {
                lastEval = eval;
                eval.forEach((k, v) -> row.put("eval_" + k, v));
            }
        }
        return row;
    }

    private Listener checkpoints(Task task) {
        return new Listener() {
            @Override
            public void onStep(long step, Map<String, Double> row) {
                if (step % settings.saveEvery() != 0 && step != settings.totalSteps()) return;
                JsonObject state = Runs.state(settings.name(), settings.config(), settings.data(), settings.seed());
                state.add("loss_scaler", scaler.toJson());
                task.state().entrySet().forEach(e -> state.add(e.getKey(), e.getValue()));
                Checkpoint.save(settings.outDir(), step, params, optimizer, state, settings.keepCheckpoints());
            }
        };
    }

    /** Steps done so far (after resuming); -1 before the first run. */
    public long stepsDone() {
        return stepsDone;
    }

    /** The log so far (null before the first run). */
    public TrainLog log() {
        return log;
    }

    /** The metrics of the last evaluation this session, or empty. */
    public Map<String, Double> lastEval() {
        return lastEval;
    }

    /** A forward/backward pass: the loss is scaled here, in one place, before backward. */
    public final class Pass implements AutoCloseable {
        private final GradientCollector collector = Engine.getInstance().newGradientCollector();
        private final long step;

        private Pass(long step) {
            this.step = step;
        }

        /**
         * Backward of {@code loss} (a scalar, this micro-batch's share of the step's loss) times the loss scale;
         * returns the unscaled loss. The loss is taken in fp32 whatever the model computes in.
         */
        public double backward(NDArray loss) {
            NDArray l = rlcd4j.engine.Precision.toFloat32(loss);
            collector.backward(scaler.enabled() ? l.mul(Runs.scalar(l, scaler.scale())) : l);
            double value = l.getFloat();
            // In fp32 a non-finite loss is a divergence: stop. In fp16 it overflows the gradients, and the step is
            // skipped.
            if (!scaler.enabled()) Finite.check(settings.name(), step + 1, "loss", value);
            return value;
        }

        @Override
        public void close() {
            collector.close();
        }
    }

    /** The step being run: micro-batches and optimiser updates. */
    public final class StepContext {
        private final long step;
        private int updates;
        private double lastNorm = Double.NaN;
        private double scaleUsed = scaler.scale();
        private int skipped;

        private StepContext(long step) {
            this.step = step;
        }

        /** The learning rate of this step. */
        public double lr() {
            return settings.schedule().at(step);
        }

        /** A micro-batch's forward and backward: examples {@code [from, to)} of the step's {@code count}. */
        @FunctionalInterface
        public interface MicroBatch {
            void run(int from, int to, Pass pass);
        }

        /**
         * Gradient accumulation: runs {@code count} examples in micro-batches of {@code microBatchSize}, each in its
         * own NDScope and gradient recording; gradients add up until {@link #update()}.
         */
        public void accumulate(int count, int microBatchSize, MicroBatch f) {
            for (int from = 0; from < count; from += microBatchSize) {
                int to = Math.min(count, from + microBatchSize);
                try (NDScope scope = new NDScope();
                        Pass pass = new Pass(step)) {
                    scope.suppressNotUsedWarning();
                    f.run(from, to, pass);
                }
            }
        }

        /**
         * One optimiser update from the accumulated gradients: unscale to fp32, check for Inf/NaN, clip the global
         * norm, AdamW at this step's rate, zero the gradients, update the scaler. Returns the gradient norm before
         * clipping, or NaN when an fp16 overflow skipped the update.
         */
        public double update() {
            updates++;
            scaleUsed = scaler.scale();
            double norm = optimizerStep(step, lr());
            if (Double.isNaN(norm)) skipped++;
            else lastNorm = norm;
            return norm;
        }
    }

    private double optimizerStep(long step, double lr) {
        double inv = 1 / scaler.scale();
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            Map<String, NDArray> grads = new LinkedHashMap<>();
            for (var e : params.entrySet()) {
                NDArray g = e.getValue().getGradient();
                NDArray g32 = g.getDataType() == DataType.FLOAT32 ? g : g.toType(DataType.FLOAT32, false);
                if (scaler.enabled()) g32.muli((float) inv);
                grads.put(e.getKey(), g32);
            }
            double norm = Gradients.globalNorm(grads.values());
            boolean finite = Double.isFinite(norm);
            if (!finite && !scaler.enabled()) Finite.check(settings.name(), step + 1, "gradient norm", norm);
            if (finite) {
                // The clip is applied inside AdamW, which also zeroes each gradient right after using it: one pass.
                optimizer.step(params, grads, Gradients.clipCoefficient(norm, settings.maxGradNorm()), lr);
            } else {
                Gradients.zero(params.values()); // Inf or NaN, which g - g would keep
            }
            scaler.update(finite);
            return finite ? norm : Double.NaN;
        }
    }
}
