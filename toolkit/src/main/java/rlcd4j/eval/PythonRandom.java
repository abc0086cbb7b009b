package rlcd4j.eval;

/**
 * CPython's {@code random.seed(n)} + {@code random.random()} for a small non-negative int seed (MT19937 seeded with
 * {@code init_by_array([n])}), so that the paper's single-order protocol shows each pair in the same order as
 * {@code gpt4_compare.py} did ({@code random.seed(0)}; {@code d1_first = random.random() < 0.5}).
 */
final class PythonRandom {
    private final int[] mt = new int[624];
    private int index = 624;

    PythonRandom(int seed) {
        if (seed < 0) throw new IllegalArgumentException("seed must be >= 0");
        initGenrand(19650218);
        // init_by_array with key = [seed], key_length = 1
        int i = 1, j = 0;
        for (int k = 624; k > 0; k--) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1664525)) + seed + j;
            i++; j++;
            if (i >= 624) { mt[0] = mt[623]; i = 1; }
            if (j >= 1) j = 0;
        }
        for (int k = 623; k > 0; k--) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1566083941)) - i;
            i++;
            if (i >= 624) { mt[0] = mt[623]; i = 1; }
        }
        mt[0] = 0x80000000;
    }

    private void initGenrand(int s) {
        mt[0] = s;
        for (int i = 1; i < 624; i++) mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
    }

    private int next32() {
        if (index >= 624) {
            for (int k = 0; k < 624; k++) {
                int y = (mt[k] & 0x80000000) | (mt[(k + 1) % 624] & 0x7fffffff);
                mt[k] = mt[(k + 397) % 624] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
            }
            index = 0;
        }
        int y = mt[index++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y;
    }

    /** {@code random.random()}: 53 random bits in [0, 1). */
    double random() {
        long a = (next32() >>> 5) & 0xffffffffL, b = (next32() >>> 6) & 0xffffffffL;
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
    }
}
