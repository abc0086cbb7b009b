package rlcd4j.util;

import java.util.List;

/**
 * CPython's {@code random.Random}, reimplemented draw for draw: MT19937 seeded by {@code init_by_array} exactly as
 * {@code random.seed(int)} does, {@code getrandbits}, {@code _randbelow} (rejection sampling on getrandbits),
 * {@code choice}, {@code shuffle} and {@code random()}.
 *
 * <p>Why: the official RLCD script draws the description pair with {@code random.choice} after {@code random.seed(0)};
 * reproducing the same stream lets a run here assign the same pair index to the same prompt as the paper's code.
 * Verified against CPython 3.11 outputs in the tests.
 */
public final class PythonRandom {
    private static final int N = 624, M = 397;
    private static final int MATRIX_A = 0x9908b0df, UPPER_MASK = 0x80000000, LOWER_MASK = 0x7fffffff;

    private final int[] mt = new int[N];
    private int mti = N + 1;

    /** Same as Python's {@code random.Random(seed)} for an int seed. */
    public PythonRandom(long seed) {
        seed(seed);
    }

    /**
     * {@code random.seed(n)} for an int n: the key is |n| split into 32-bit words, least significant first
     * ({@code [0]} for 0), then {@code init_by_array(key)}.
     */
    public void seed(long seed) {
        // |Long.MIN_VALUE| does not fit a long; handle it as the unsigned value 2^63.
        long abs = seed == Long.MIN_VALUE ? Long.MIN_VALUE : Math.abs(seed);
        int lo = (int) abs, hi = (int) (abs >>> 32);
        int[] key = hi != 0 ? new int[] {lo, hi} : new int[] {lo};
        initByArray(key);
    }

    private void initGenrand(int s) {
        mt[0] = s;
        for (mti = 1; mti < N; mti++) {
            mt[mti] = 1812433253 * (mt[mti - 1] ^ (mt[mti - 1] >>> 30)) + mti;
        }
    }

    private void initByArray(int[] key) {
        initGenrand(19650218);
        int i = 1, j = 0;
        int k = Math.max(N, key.length);
        for (; k > 0; k--) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1664525)) + key[j] + j;
            i++;
            j++;
            if (i >= N) {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if (j >= key.length) j = 0;
        }
        for (k = N - 1; k > 0; k--) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1566083941)) - i;
            i++;
            if (i >= N) {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = 0x80000000;
    }

    /** genrand_uint32: the next 32 raw bits, as an unsigned value in a long. */
    private long nextUint32() {
        int y;
        if (mti >= N) {
            int kk;
            for (kk = 0; kk < N - M; kk++) {
                y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
                mt[kk] = mt[kk + M] ^ (y >>> 1) ^ ((y & 1) != 0 ? MATRIX_A : 0);
            }
            for (; kk < N - 1; kk++) {
                y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
                mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ ((y & 1) != 0 ? MATRIX_A : 0);
            }
            y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
            mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ ((y & 1) != 0 ? MATRIX_A : 0);
            mti = 0;
        }
        y = mt[mti++];
        y ^= (y >>> 11);
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= (y >>> 18);
        return y & 0xffffffffL;
    }

    /** {@code random.random()}: 53 random bits from two words, {@code (a*2^26+b)/2^53}. */
    public double random() {
        long a = nextUint32() >>> 5, b = nextUint32() >>> 6;
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
    }

    /** {@code random.getrandbits(k)} for {@code 0 <= k <= 63} (words are filled least significant first, as CPython does). */
    public long getrandbits(int k) {
        if (k < 0 || k > 63) throw new IllegalArgumentException("getrandbits supports 0..63 bits here, got " + k);
        if (k == 0) return 0;
        if (k <= 32) return nextUint32() >>> (32 - k);
        long low = nextUint32();
        long high = nextUint32() >>> (64 - k);
        return (high << 32) | low;
    }

    /** {@code Random._randbelow_with_getrandbits(n)}: k = n.bit_length(), redraw getrandbits(k) until below n. */
    public int randbelow(int n) {
        if (n <= 0) return 0;
        int k = 32 - Integer.numberOfLeadingZeros(n);
        long r = getrandbits(k);
        while (r >= n) r = getrandbits(k);
        return (int) r;
    }

    /** {@code random.choice(range(n))}: one index in [0, n). Consumes draws even for n = 1, like CPython. */
    public int choiceIndex(int n) {
        if (n <= 0) throw new IllegalArgumentException("cannot choose from an empty sequence");
        return randbelow(n);
    }

    public <T> T choice(List<T> seq) {
        return seq.get(choiceIndex(seq.size()));
    }

    /** {@code random.shuffle(x)} in place: for i from len-1 down to 1, swap x[i] with x[randbelow(i+1)]. */
    public <T> void shuffle(List<T> x) {
        for (int i = x.size() - 1; i > 0; i--) {
            int j = randbelow(i + 1);
            T t = x.get(i);
            x.set(i, x.get(j));
            x.set(j, t);
        }
    }
}
