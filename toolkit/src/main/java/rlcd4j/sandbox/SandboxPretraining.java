package rlcd4j.sandbox;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.Tokenizer;
import rlcd4j.engine.llama.LlamaConfig;
import rlcd4j.engine.llama.LlamaModel;
import rlcd4j.train.PretrainTrainer;
import rlcd4j.util.Json;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.Table;

/**
 * Makes the demo's base model from nothing: the sandbox corpus, a byte-level BPE tokenizer learned on it, a small
 * LLaMA config, and next-token pretraining with the project's own engine and trainer. Every step is seeded; the
 * result is a Hugging Face model folder plus {@code MADE.json} saying how it was made.
 */
public final class SandboxPretraining {
    /**
     * @param dialogues pretraining dialogues in the corpus
     * @param mix       how often assistant turns are described and good ({@link SandboxWorld.Mix#standard()})
     * @param merges    BPE merges to learn (the sandbox language runs out of frequent pairs near 1600)
     */
    public record Options(long seed, int dialogues, SandboxWorld.Mix mix, int merges, PretrainTrainer.Config training) {
        public static Options defaults() {
            return new Options(
                    0,
                    60000,
                    SandboxWorld.Mix.standard(),
                    2000,
                    PretrainTrainer.Config.defaults()
                            .withBatch(32, 128)
                            .withSteps(4500)
                            .withLr(2e-3, 225));
        }

        public Options withTraining(PretrainTrainer.Config t) {
            return new Options(seed, dialogues, mix, merges, t);
        }

        public Options withDialogues(int n) {
            return new Options(seed, n, mix, merges, training);
        }

        public Options withSeed(long s) {
            return new Options(s, dialogues, mix, merges, training);
        }

        /** The share of judged assistant turns that carry a description (the rest of the mix unchanged). */
        public Options withDescribed(double share) {
            return new Options(
                    seed,
                    dialogues,
                    new SandboxWorld.Mix(share, mix.good(), mix.smallTalk(), mix.earlierExchange()),
                    merges,
                    training);
        }
    }

    private SandboxPretraining() {}

    /**
     * Writes the corpus and checkpoints under {@code workDir} (a killed run resumes from there) and the finished model
     * to {@code modelDir}. Returns the pretraining log.
     */
    public static Table run(Path workDir, Path modelDir, Options o, String command) {
        Instant start = Instant.now();
        SandboxCorpus corpus = SandboxCorpus.write(
                workDir.resolve("corpus"), o.seed(), o.dialogues(), o.mix(), SandboxCorpus.DEFAULT_EVAL_PER_TASK);
        List<String> texts = SandboxCorpus.readTexts(corpus.pretrainFile());
        BpeTrainer.Model bpe = BpeTrainer.train(texts, o.merges());
        bpe.writeHuggingFace(modelDir, 512);
        SandboxModelConfig.recommended(bpe.vocabSize()).write(modelDir);
        LlamaConfig config = LlamaConfig.read(modelDir.resolve("config.json"));
        NDManager manager = NDManager.newBaseManager();
        LlamaModel model = LlamaModel.random(config, manager, DataType.FLOAT32, o.seed());
        Table log;
        try (CausalLM lm = CausalLM.of("sandbox-base", model, Tokenizer.load(modelDir, config))) {
            log = PretrainTrainer.train(lm, texts, o.training().withSeed(o.seed()), workDir.resolve("checkpoints"));
            lm.save(modelDir);
        }
        JsonObject made = new JsonObject();
        made.addProperty("command", command);
        made.addProperty("seed", o.seed());
        made.addProperty("dialogues", o.dialogues());
        JsonObject mix = new JsonObject();
        mix.addProperty("described", o.mix().described());
        mix.addProperty("good", o.mix().good());
        mix.addProperty("small_talk", o.mix().smallTalk());
        mix.addProperty("earlier_exchange", o.mix().earlierExchange());
        made.add("mix", mix);
        made.addProperty("bpe_merges_requested", o.merges());
        made.addProperty("vocab_size", bpe.vocabSize());
        made.addProperty(
                "parameters", SandboxModelConfig.recommended(bpe.vocabSize()).parameterCount());
        made.add("training", o.training().toJson());
        made.addProperty("final_loss", log.doubleColumn("loss").get(log.rowCount() - 1));
        made.addProperty(
                "wall_clock_minutes", Duration.between(start, Instant.now()).toSeconds() / 60.0);
        made.addProperty("machine_cores", Runtime.getRuntime().availableProcessors());
        made.addProperty("torch_threads", System.getProperty("ai.djl.pytorch.num_threads", "default"));
        try {
            Files.writeString(modelDir.resolve("MADE.json"), Json.PRETTY.toJson(made), StandardCharsets.UTF_8);
            log.write().csv(modelDir.resolve("pretraining-log.csv").toFile());
        } catch (IOException e) {
            throw new RlcdException(modelDir + ": cannot write MADE.json: " + e.getMessage(), e);
        }
        return log;
    }
}
