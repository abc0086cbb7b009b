package rlcd4j.engine.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A second thread for the products of decode steps with 1-3 rows: {@link #times} multiplies the first half of a
 * matrix's rows on the calling thread and the second half on the helper, at the same time.
 *
 * <p>Why: such a product reads a whole weight matrix for a few dot products, so its speed is memory bandwidth, and
 * libtorch's MKL runs it on one core whatever the intra-op threads. Two cores stream nearly twice the bytes of one, so
 * two threads each multiplying half of the rows nearly halve the time
 * (figures: docs/perf/code-figures.md#decodehelper).
 *
 * <p>The helper spins between products (a decode step posts four per layer, microseconds apart) and parks after
 * {@link #SPIN_NANOS} without work, so it does not hold a core between generations. Each output element is the same
 * dot product over the same inputs as without the split. The helper's result is made outside any {@code NDScope} (scopes
 * are per thread), so {@link #times} closes it once it is copied into the joined output.
 */
public final class DecodeHelper implements AutoCloseable {
    private static final int IDLE = 0, POSTED = 1, DONE = 2;
    /** How long the helper spins without work before it parks. */
    static final long SPIN_NANOS = 200_000;

    private final AtomicInteger state = new AtomicInteger(IDLE);
    private final Thread thread;
    private volatile NDArray x, secondT, out;
    private volatile boolean weightsLeft;
    private volatile Throwable failure;
    private volatile boolean closed;

    public DecodeHelper() {
        thread = new Thread(this::loop, "rlcd4j-decode-helper");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * x [M,K] times Wᵀ, with W's rows split in two: {@code firstT} and {@code secondT} are the transposed views of
     * W's first and second halves of rows, [K,N1] and [K,N2]. Returns [M, N1+N2]; with {@code weightsLeft} each half
     * is computed as W·xᵀ (the faster layout for skinny x, see {@code LlamaModel.HEAD_WEIGHTS_LEFT_ROWS}) and the result
     * is a transposed view.
     */
    public synchronized NDArray times(NDArray x, NDArray firstT, NDArray secondT, boolean weightsLeft) {
        if (closed) throw new IllegalStateException("decode helper closed");
        NDArray in = weightsLeft ? x.transpose() : x; // [K,M] or [M,K]; a local: the helper clears its copy when done
        this.x = in;
        this.secondT = secondT;
        this.weightsLeft = weightsLeft;
        state.set(POSTED);
        LockSupport.unpark(thread);
        NDArray first = null;
        try {
            first = weightsLeft ? firstT.transpose().matMul(in) : in.matMul(firstT);
        } finally {
            NativeThreads.awaitEvenIfStopped(state, DONE, IDLE); // even on failure: the helper may still read x
        }
        NDArray second = out;
        out = null;
        Throwable t = failure;
        if (t != null) {
            failure = null;
            first.close();
            throw t instanceof RuntimeException r ? r : new IllegalStateException("decode helper failed", t);
        }
        try {
            return weightsLeft ? first.concat(second, 0).transpose() : first.concat(second, 1);
        } finally {
            second.close();
        }
    }

    private void loop() {
        // libtorch's grad mode is per thread and on by default; the products it is given are inference (no autograd),
        // and autograd would also refuse to read weight views that training updated in place
        JniUtils.setGradMode(false);
        while (!closed) {
            long idleSince = System.nanoTime();
            int spins = 0;
            while (state.get() != POSTED) {
                if (closed) return;
                if ((++spins & 255) != 0) {
                    Thread.onSpinWait();
                } else if (System.nanoTime() - idleSince > SPIN_NANOS) {
                    LockSupport.park(this);
                }
            }
            try {
                if (weightsLeft) {
                    try (NDArray w = secondT.transpose()) { // a view made outside any scope: closed here
                        out = w.matMul(x);
                    }
                } else {
                    out = x.matMul(secondT);
                }
            } catch (Throwable t) {
                failure = t;
            }
            x = null;
            secondT = null;
            state.set(DONE);
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
    }
}
