package rlcd4j.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Keys and values of past positions, one preallocated buffer per layer of shape [B, KV, capacity, headDim], written
 * in place, so a decode step copies only the new position instead of concatenating the whole history.
 */
public final class KvCache implements AutoCloseable {
    private final NDArray[] keys;
    private final NDArray[] values;
    private final int capacity;
    private int length;

    public KvCache(NDManager manager, int layers, int batch, int kvHeads, int capacity, int headDim, DataType dtype) {
        this.capacity = capacity;
        keys = new NDArray[layers];
        values = new NDArray[layers];
        Shape shape = new Shape(batch, kvHeads, capacity, headDim);
        for (int l = 0; l < layers; l++) {
            keys[l] = manager.zeros(shape, dtype);
            values[l] = manager.zeros(shape, dtype);
            // The cache outlives the per-step scopes it is used in.
            NDScope.unregister(keys[l], values[l]);
        }
    }

    /** Positions already stored. */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    /**
     * Stores k, v [B, KV, T, hd] of the current step at positions [length, length+T) of layer {@code layer} and returns
     * the keys and values of all positions so far, [B, KV, length+T, hd]. Call {@link #advance} once per step after
     * the last layer.
     */
    public NDArray[] append(int layer, NDArray k, NDArray v) {
        int t = (int) k.getShape().get(2);
        if (length + t > capacity) {
            throw new IllegalStateException("KV cache full: " + length + " + " + t + " > capacity " + capacity);
        }
        // built, not parsed from a string: this runs twice per layer per step
        NDIndex slot = new NDIndex().addAllDim(2).addSliceDim(length, length + t);
        keys[layer].set(slot, k);
        values[layer].set(slot, v);
        NDIndex upto = new NDIndex().addAllDim(2).addSliceDim(0, length + t);
        return new NDArray[] {keys[layer].get(upto), values[layer].get(upto)};
    }

    public void advance(int steps) {
        length += steps;
    }

    /**
     * Copies every position {@code from} holds into rows {@code rows} of this cache, at positions
     * [{@code at}, {@code at} + from.length()): row j of {@code from} goes to row rows[j]. Used to prefill the rows of a
     * batch in separate forwards; call {@link #advance} once the rows are all in.
     */
    public void storeRows(KvCache from, int[] rows, int at) {
        int t = from.length;
        if (at < 0 || at + t > capacity) {
            throw new IllegalStateException("positions [" + at + ", " + (at + t) + ") do not fit capacity " + capacity);
        }
        NDIndex src = new NDIndex().addAllDim(2).addSliceDim(0, t);
        for (int l = 0; l < keys.length; l++) {
            try (NDArray k = from.keys[l].get(src); NDArray v = from.values[l].get(src)) {
                for (int j = 0; j < rows.length; j++) {
                    NDIndex dst = new NDIndex().addIndices(rows[j]).addAllDim().addSliceDim(at, at + t);
                    try (NDArray kj = k.get(j); NDArray vj = v.get(j)) {
                        keys[l].set(dst, kj);
                        values[l].set(dst, vj);
                    }
                }
            }
        }
    }

    /**
     * Keeps only batch rows {@code keep} (in that order), dropping the others: later steps then compute and read the
     * cache of the kept rows only. Copies the kept rows once.
     */
    public void keepRows(int[] keep) {
        long[] idx = new long[keep.length];
        for (int i = 0; i < keep.length; i++) idx[i] = keep[i];
        for (int l = 0; l < keys.length; l++) {
            try (NDArray at = keys[l].getManager().create(idx)) {
                NDArray k = keys[l].get(at), v = values[l].get(at);
                NDScope.unregister(k, v); // like the buffers they replace, they outlive the caller's scopes
                keys[l].close();
                values[l].close();
                keys[l] = k;
                values[l] = v;
            }
        }
    }

    @Override
    public void close() {
        for (int l = 0; l < keys.length; l++) {
            keys[l].close();
            values[l].close();
        }
    }
}
