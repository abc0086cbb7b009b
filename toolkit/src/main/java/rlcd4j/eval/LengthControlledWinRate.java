package rlcd4j.eval;

import java.util.Arrays;
import java.util.SplittableRandom;
import rlcd4j.util.RlcdException;

/**
 * Length-controlled win rate (in the spirit of AlpacaEval's LC win rate, reduced to one pair of models): fit
 * <pre>  P(A wins pair i) = sigmoid(b0 + b1 * tanh(d_i / sd(d))),   d_i = len(A_i) - len(B_i) in tokens</pre>
 * by maximum likelihood (the per-pair score in [0, 1] is the target, so ties count as half; Newton's method with a
 * 1e-6 ridge so that a sweep such as 100% wins still has a finite fit), and report {@code sigmoid(b0)}: the predicted
 * win rate of A over B when the two answers have the same length. The tanh keeps a few very long answers from
 * dominating the slope. The 95% interval is a percentile bootstrap over pairs that refits the model on each resample
 * (sd(d) is fixed from the full sample). When every pair has the same length difference, b1 is not identifiable and
 * the LC win rate equals the plain win rate.
 */
public record LengthControlledWinRate(
        double winRate, double ciLow, double ciHigh, double intercept, double slope, double lengthScale) {
    static final double RIDGE = 1e-6;

    public static LengthControlledWinRate fit(double[] scores, double[] lenA, double[] lenB, int resamples, long seed) {
        WinRate.checkScores(scores);
        if (lenA.length != scores.length || lenB.length != scores.length)
            throw new RlcdException("length-controlled win rate: " + scores.length + " scores but " + lenA.length
                    + " and " + lenB.length + " lengths; expected one length per pair and side");
        int n = scores.length;
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = lenA[i] - lenB[i];
        double sd = sd(d);
        double[] x = new double[n];
        if (sd > 0) for (int i = 0; i < n; i++) x[i] = Math.tanh(d[i] / sd);
        double[] b = fitLogistic(x, scores, sd > 0);
        double[] boot = new double[resamples];
        SplittableRandom rng = new SplittableRandom(seed);
        double[] xs = new double[n], ys = new double[n];
        for (int r = 0; r < resamples; r++) {
            for (int i = 0; i < n; i++) {
                int j = rng.nextInt(n);
                xs[i] = x[j];
                ys[i] = scores[j];
            }
            boot[r] = sigmoid(fitLogistic(xs, ys, sd > 0)[0]);
        }
        Arrays.sort(boot);
        return new LengthControlledWinRate(
                sigmoid(b[0]), WinRate.quantile(boot, 0.025), WinRate.quantile(boot, 0.975), b[0], b[1], sd);
    }

    /** {b0, b1} maximising sum y log p + (1-y) log(1-p), p = sigmoid(b0 + b1 x), minus RIDGE/2 |b|^2; b1 = 0 when !useX. */
    static double[] fitLogistic(double[] x, double[] y, boolean useX) {
        double b0 = 0, b1 = 0;
        double loss = loss(x, y, b0, b1);
        for (int iter = 0; iter < 200; iter++) {
            double g0 = -RIDGE * b0, g1 = -RIDGE * b1, h00 = RIDGE, h01 = 0, h11 = RIDGE;
            for (int i = 0; i < x.length; i++) {
                double p = sigmoid(b0 + b1 * x[i]), w = p * (1 - p), r = y[i] - p;
                g0 += r;
                g1 += r * x[i];
                h00 += w;
                h01 += w * x[i];
                h11 += w * x[i] * x[i];
            }
            double s0, s1;
            if (useX) {
                double det = h00 * h11 - h01 * h01;
                s0 = (h11 * g0 - h01 * g1) / det;
                s1 = (h00 * g1 - h01 * g0) / det;
            } else {
                s0 = g0 / h00;
                s1 = 0;
            }
            double step = 1; // backtracking keeps Newton from overshooting when the data are (nearly) separable
            double next = loss(x, y, b0 + s0, b1 + s1);
            while (next > loss && step > 1e-8) {
                step /= 2;
                next = loss(x, y, b0 + step * s0, b1 + step * s1);
            }
            b0 += step * s0;
            b1 += step * s1;
            boolean done =
                    Math.abs(step * s0) < 1e-10 && Math.abs(step * s1) < 1e-10 || loss - next < 1e-14 && step < 1;
            loss = next;
            if (done) break;
        }
        return new double[] {b0, b1};
    }

    private static double loss(double[] x, double[] y, double b0, double b1) {
        double l = RIDGE / 2 * (b0 * b0 + b1 * b1);
        for (int i = 0; i < x.length; i++) {
            double eta = b0 + b1 * x[i];
            l += softplus(eta) - y[i] * eta; // -[y log p + (1-y) log(1-p)]
        }
        return l;
    }

    static double sigmoid(double z) {
        return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
    }

    private static double softplus(double z) {
        return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
    }

    private static double sd(double[] d) {
        double m = WinRate.mean(d), s = 0;
        for (double v : d) s += (v - m) * (v - m);
        return Math.sqrt(s / d.length);
    }

    @Override
    public String toString() {
        return String.format(
                "LC %.1f%% [%.1f, %.1f] (b0=%.3f, b1=%.3f, sd(len diff)=%.1f)",
                100 * winRate, 100 * ciLow, 100 * ciHigh, intercept, slope, lengthScale);
    }
}
