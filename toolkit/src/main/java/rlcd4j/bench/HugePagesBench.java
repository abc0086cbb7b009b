package rlcd4j.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import rlcd4j.engine.cpu.HugePages;
import rlcd4j.engine.cpu.KvCache;
import rlcd4j.engine.cpu.NativeThreads;
import rlcd4j.engine.llama.LlamaConfig;
import rlcd4j.engine.llama.LlamaModel;

/**
 * Decode steps with the weights on 4 KiB pages against 2 MiB pages ({@link HugePages}), in one JVM: two copies of a
 * model of SmolLM2-135M's shapes (random weights, fp32), the first made with {@code -Drlcd4j.hugePages=false}, their
 * steps taken in turns, blocks of eight, in A B B A order. Separate JVMs would compare different physical memory,
 * which on a shared virtual machine differs between runs by more than this effect.
 *
 * <pre>java -Dai.djl.offline=true -cp ... rlcd4j.bench.HugePagesBench [rows] [blocks]</pre>
 *
 * Prints the median, 25th and 75th percentile of a step plus the LM head, in ms, for each.
 */
public final class HugePagesBench {
    private static final int CONTEXT = 200, BLOCK = 8;

    private HugePagesBench() {}

    public static void main(String[] args) throws InterruptedException {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        int blocks = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        NativeThreads.tuneWaiting();
        LlamaConfig config = SmolLm2Shapes.config();
        System.out.println("weights on 2 MiB pages: " + HugePages.status() + "; rows " + rows + ", context " + CONTEXT);
        try (NDManager manager = NDManager.newBaseManager()) {
            LlamaModel[] models = new LlamaModel[2];
            KvCache[] caches = new KvCache[2];
            List<List<Double>> ms = List.of(new ArrayList<>(), new ArrayList<>());
            for (int v = 0; v < 2; v++) {
                System.setProperty(HugePages.PROPERTY, v == 0 ? "false" : "true");
                models[v] = LlamaModel.random(config, manager, DataType.FLOAT32, 42);
                caches[v] = new KvCache(
                        manager,
                        config.numLayers(),
                        rows,
                        config.numKvHeads(),
                        CONTEXT + blocks * BLOCK + 8,
                        config.headDim(),
                        DataType.FLOAT32);
                caches[v].advance(CONTEXT);
                step(models[v], caches[v], rows, 0); // makes the decoder, which asks for the pages
            }
            System.clearProperty(HugePages.PROPERTY);
            Thread.sleep(5000); // the pages move on a thread of their own: let it finish
            for (int b = 0; b < blocks; b++) {
                for (int turn = 0; turn < 2; turn++) {
                    int v = b % 2 == 0 ? turn : 1 - turn;
                    for (int i = 0; i < BLOCK; i++) ms.get(v).add(step(models[v], caches[v], rows, b * BLOCK + i));
                }
            }
            for (int v = 0; v < 2; v++) {
                List<Double> x = new ArrayList<>(ms.get(v));
                Collections.sort(x);
                System.out.printf(
                        "RESULT %s median %.2f ms (p25 %.2f, p75 %.2f), step and head of %d rows%n",
                        v == 0 ? "4KiB" : "2MiB",
                        x.get(x.size() / 2),
                        x.get(x.size() / 4),
                        x.get(3 * x.size() / 4),
                        rows);
            }
        }
    }

    /** One decode step and the LM head over its output, in ms. */
    private static double step(LlamaModel model, KvCache cache, int rows, int r) {
        try (NDManager s = model.manager().newSubManager()) {
            long[] ids = new long[rows], positions = new long[rows];
            for (int b = 0; b < rows; b++) {
                ids[b] = (r * 31L + b) % 1000;
                positions[b] = cache.length();
            }
            long t0 = System.nanoTime();
            NDArray h = model.step(
                    s.create(ids, new Shape(rows, 1)), s.create(positions, new Shape(rows, 1)), new int[rows], cache);
            model.logits(h.reshape(rows, model.config().hiddenSize())).toFloatArray();
            return (System.nanoTime() - t0) / 1e6;
        }
    }
}
