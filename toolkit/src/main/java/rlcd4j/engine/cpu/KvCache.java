package rlcd4j.engine.cpu;

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
    private final int kvHeads, headDim;
    // the buffers' native addresses, for native attention; found at first use
    private long[] keyAddresses, valueAddresses;
    // [rows, width]: native attention's output, reused by every layer and step
    private NDArray attentionOut;
    private long attentionOutAddress;
    private int rows;
    private int capacity;
    private int length;

    public KvCache(NDManager manager, int layers, int batch, int kvHeads, int capacity, int headDim, DataType dtype) {
        this.rows = batch;
        this.capacity = capacity;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
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
        int t = store(layer, k, v);
        NDIndex upto = new NDIndex().addAllDim(2).addSliceDim(0, length + t);
        return new NDArray[] {keys[layer].get(upto), values[layer].get(upto)};
    }

    /** Stores k, v [B, KV, T, hd] at positions [length, length+T) of layer {@code layer}, as {@link #append}; returns T. */
    public int store(int layer, NDArray k, NDArray v) {
        int t = (int) k.getShape().get(2);
        if (length + t > capacity) {
            throw new IllegalStateException("KV cache full: " + length + " + " + t + " > capacity " + capacity);
        }
        // built, not parsed from a string: this runs twice per layer per step
        NDIndex slot = new NDIndex().addAllDim(2).addSliceDim(length, length + t);
        keys[layer].set(slot, k);
        values[layer].set(slot, v);
        return t;
    }

    /** Layer {@code layer}'s whole key buffer [B, KV, capacity, hd] (for native attention, which reads it in place). */
    public NDArray keys(int layer) {
        return keys[layer];
    }

    /** Layer {@code layer}'s whole value buffer [B, KV, capacity, hd]. */
    public NDArray values(int layer) {
        return values[layer];
    }

    /** The native address of layer {@code layer}'s key buffer (valid until the next {@link #relayout} or {@link #close}). */
    public long keysAddress(int layer) {
        findAddresses();
        return keyAddresses[layer];
    }

    /** The native address of layer {@code layer}'s value buffer. */
    public long valuesAddress(int layer) {
        findAddresses();
        return valueAddresses[layer];
    }

    private void findAddresses() {
        if (keyAddresses != null) return;
        long[] k = new long[keys.length], v = new long[values.length];
        for (int l = 0; l < keys.length; l++) {
            k[l] = DecodeAttention.address(keys[l]);
            v[l] = DecodeAttention.address(values[l]);
        }
        keyAddresses = k;
        valueAddresses = v;
    }

    /**
     * A [rows, width] fp32 buffer for native attention's output, made once per batch shape and reused by every layer
     * and step: a layer's output projection reads it before the next layer writes it. Its address is
     * {@link #attentionOutputAddress()}.
     */
    public NDArray attentionOutput(long width) {
        if (attentionOut == null
                || attentionOut.getShape().get(1) != width
                || attentionOut.getShape().get(0) != rows) {
            if (attentionOut != null) attentionOut.close();
            attentionOut = keys[0].getManager().create(new Shape(rows, width), DataType.FLOAT32);
            NDScope.unregister(attentionOut); // it outlives the per-step scopes, like the cache's buffers
            attentionOutAddress = DecodeAttention.address(attentionOut);
        }
        return attentionOut;
    }

    /** The native address of {@link #attentionOutput}'s buffer. */
    public long attentionOutputAddress() {
        return attentionOutAddress;
    }

    public int kvHeads() {
        return kvHeads;
    }

    public int headDim() {
        return headDim;
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
            try (NDArray k = from.keys[l].get(src);
                    NDArray v = from.values[l].get(src)) {
                for (int j = 0; j < rows.length; j++) {
                    NDIndex dst = new NDIndex().addIndices(rows[j]).addAllDim().addSliceDim(at, at + t);
                    try (NDArray kj = k.get(j);
                            NDArray vj = v.get(j)) {
                        keys[l].set(dst, kj);
                        values[l].set(dst, vj);
                    }
                }
            }
        }
    }

    /**
     * Rebuilds the cache for a running batch whose rows change (continuous batching: rows join, finished rows leave)
     * or whose columns move: row j of the new cache is row {@code rowMap[j]} of this one (-1: a row about to be
     * filled, whose content does not matter), and the last {@code keep} columns, [length - keep, length), move to
     * [newLength - keep, newLength). Columns before them are left as they were; rows mask them. Works in place when
     * the rows and the capacity stay; otherwise copies into new buffers [rowMap.length, KV, newCapacity, hd].
     */
    public void relayout(int[] rowMap, int keep, int newLength, int newCapacity) {
        if (keep > length || keep > newLength || newLength > newCapacity) {
            throw new IllegalStateException("cannot move the last " + keep + " of " + length + " columns to end at "
                    + newLength + " in a capacity of " + newCapacity);
        }
        boolean sameRows = rowMap.length == rows;
        for (int j = 0; sameRows && j < rowMap.length; j++) sameRows = rowMap[j] == j;
        NDIndex from = new NDIndex().addAllDim(2).addSliceDim(length - keep, length);
        NDIndex to = new NDIndex().addAllDim(2).addSliceDim(newLength - keep, newLength);
        if (sameRows && newCapacity == capacity) {
            if (newLength != length && keep > 0) {
                for (NDArray[] buffers : new NDArray[][] {keys, values}) {
                    for (NDArray b : buffers) {
                        try (NDArray window = b.get(from);
                                NDArray moved = window.duplicate()) { // the two may overlap
                            b.set(to, moved);
                        }
                    }
                }
            }
        } else {
            long[] pick = new long[rowMap.length];
            for (int j = 0; j < rowMap.length; j++) pick[j] = Math.max(0, rowMap[j]); // any row for -1: masked anyway
            for (NDArray[] buffers : new NDArray[][] {keys, values}) {
                for (int l = 0; l < buffers.length; l++) {
                    NDArray old = buffers[l];
                    Shape s = old.getShape();
                    NDArray fresh = old.getManager()
                            .zeros(new Shape(rowMap.length, s.get(1), newCapacity, s.get(3)), old.getDataType());
                    NDScope.unregister(fresh); // like the buffer it replaces, it outlives the caller's scopes
                    if (keep > 0) {
                        try (NDArray at = old.getManager().create(pick);
                                NDArray window = old.get(from);
                                NDArray rowsOf = window.get(at)) {
                            fresh.set(to, rowsOf);
                        }
                    }
                    old.close();
                    buffers[l] = fresh;
                    keyAddresses = null;
                    valueAddresses = null;
                }
            }
            rows = rowMap.length;
            capacity = newCapacity;
        }
        length = newLength;
    }

    /** Batch rows. */
    public int rows() {
        return rows;
    }

    @Override
    public void close() {
        if (attentionOut != null) attentionOut.close();
        for (int l = 0; l < keys.length; l++) {
            keys[l].close();
            values[l].close();
        }
    }
}
