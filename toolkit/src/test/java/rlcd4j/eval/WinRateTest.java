package rlcd4j.eval;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.Table;

class WinRateTest {
    /** n scores: wins ones, ties halves, the rest zeros. */
    private static double[] scores(int wins, int ties, int losses) {
        double[] s = new double[wins + ties + losses];
        for (int i = 0; i < s.length; i++) s[i] = i < wins ? 1 : i < wins + ties ? 0.5 : 0;
        return s;
    }

    /**
     * The exact distribution of the bootstrap mean (infinitely many resamples): the counts of ones, halves and zeros in
     * a resample are multinomial(n; observed proportions). Returns mean -> probability.
     */
    private static TreeMap<Double, Double> exactBootstrap(int wins, int ties, int losses) {
        int n = wins + ties + losses;
        double p1 = wins / (double) n, ph = ties / (double) n, p0 = losses / (double) n;
        TreeMap<Double, Double> dist = new TreeMap<>();
        for (int c1 = 0; c1 <= n; c1++)
            for (int ch = 0; c1 + ch <= n; ch++) {
                int c0 = n - c1 - ch;
                double logp = logFact(n)
                        - logFact(c1)
                        - logFact(ch)
                        - logFact(c0)
                        + term(c1, p1)
                        + term(ch, ph)
                        + term(c0, p0);
                if (logp == Double.NEGATIVE_INFINITY) continue;
                dist.merge((c1 + 0.5 * ch) / n, Math.exp(logp), Double::sum);
            }
        return dist;
    }

    private static double term(int c, double p) {
        return c == 0 ? 0 : c * Math.log(p);
    }

    private static double logFact(int k) {
        double s = 0;
        for (int i = 2; i <= k; i++) s += Math.log(i);
        return s;
    }

    /** Smallest support value with CDF >= q, and the CDF just below it (for a robustness margin). */
    private static double[] exactQuantile(TreeMap<Double, Double> dist, double q) {
        double cdf = 0;
        for (Map.Entry<Double, Double> e : dist.entrySet()) {
            double before = cdf;
            cdf += e.getValue();
            if (cdf >= q) return new double[] {e.getKey(), before, cdf};
        }
        throw new AssertionError();
    }

    private static void assertMatchesExactBootstrap(int wins, int ties, int losses) {
        WinRate w = WinRate.bootstrap(scores(wins, ties, losses), 10_000, 7);
        TreeMap<Double, Double> dist = exactBootstrap(wins, ties, losses);
        assertEquals(
                1.0, dist.values().stream().mapToDouble(Double::doubleValue).sum(), 1e-9);
        double[] lo = exactQuantile(dist, 0.025), hi = exactQuantile(dist, 0.975);
        // Monte-Carlo sd of the empirical CDF at q with 10 000 resamples is ~0.0016; the chosen cases keep the exact
        // CDF
        // at least 4 sd away from q on both sides of each quantile, so the bootstrap must land on the exact value.
        for (double[] e : new double[][] {{lo[1], lo[2], 0.025}, {hi[1], hi[2], 0.975}}) {
            assertTrue(
                    e[2] - e[0] > 0.0065 && e[1] - e[2] > 0.0065,
                    "case too close to a CDF step: " + java.util.Arrays.toString(e));
        }
        assertEquals(lo[0], w.ciLow(), 1e-12, "lower end vs exact bootstrap distribution");
        assertEquals(hi[0], w.ciHigh(), 1e-12, "upper end vs exact bootstrap distribution");
        assertEquals((wins + 0.5 * ties) / (wins + ties + losses), w.winRate(), 1e-12);
    }

    @Test
    void noTiesMatchesTheExactBinomialBootstrap() {
        // 14 of 20: the resampled mean is Binomial(20, 0.7)/20, whose 2.5% and 97.5% quantiles are 0.50 and 0.90.
        assertMatchesExactBootstrap(14, 0, 6);
        WinRate w = WinRate.bootstrap(scores(14, 0, 6), 10_000, 7);
        assertEquals(0.50, w.ciLow(), 1e-12);
        assertEquals(0.90, w.ciHigh(), 1e-12);
    }

    @Test
    void withTiesMatchesTheExactMultinomialBootstrap() {
        // 4 wins, 6 ties, 1 loss: exact bootstrap quantiles 5/11 and 9/11, each more than 0.01 from a CDF step.
        assertMatchesExactBootstrap(4, 6, 1);
        WinRate w = WinRate.bootstrap(scores(4, 6, 1), 10_000, 7);
        assertEquals(5.0 / 11, w.ciLow(), 1e-12);
        assertEquals(9.0 / 11, w.ciHigh(), 1e-12);
    }

    @Test
    void largeSampleAgreesWithTheNormalApproximation() {
        WinRate w = WinRate.of(scores(700, 0, 300));
        double half = 1.959964 * Math.sqrt(0.7 * 0.3 / 1000);
        assertEquals(0.7 - half, w.ciLow(), 0.004);
        assertEquals(0.7 + half, w.ciHigh(), 0.004);
        // ties shrink the variance: 600 wins, 200 ties, 200 losses: var = E[s^2] - m^2 = 0.65 - 0.49 = 0.16
        WinRate t = WinRate.of(scores(600, 200, 200));
        double halfT = 1.959964 * Math.sqrt(0.16 / 1000);
        assertEquals(0.7, t.winRate(), 1e-12);
        assertEquals(0.7 - halfT, t.ciLow(), 0.004);
        assertEquals(0.7 + halfT, t.ciHigh(), 0.004);
    }

    @Test
    void seededAndValidated() {
        double[] s = scores(30, 4, 16);
        assertEquals(WinRate.bootstrap(s, 2000, 3), WinRate.bootstrap(s, 2000, 3));
        assertThrows(rlcd4j.util.RlcdException.class, () -> WinRate.of(new double[] {0.2, 1.5}));
        assertThrows(rlcd4j.util.RlcdException.class, () -> WinRate.of(new double[0]));
    }

    @Test
    void logisticFitMatchesTheClosedFormForABinaryFeature() {
        // With x in {0,1}: b0 = logit(mean y | x=0), b0 + b1 = logit(mean y | x=1).
        double[] x = new double[100], y = new double[100];
        for (int i = 0; i < 100; i++) {
            x[i] = i < 40 ? 0 : 1;
            // x=0: (10+2)/40 = 0.3 ; x=1: 45/60 = 0.75
            y[i] = i < 40 ? (i < 10 ? 1 : i < 14 ? 0.5 : 0) : (i < 85 ? 1 : 0);
        }
        double[] b = LengthControlledWinRate.fitLogistic(x, y, true);
        assertEquals(Math.log(0.3 / 0.7), b[0], 1e-5);
        assertEquals(Math.log(0.75 / 0.25), b[0] + b[1], 1e-5);
    }

    @Test
    void lengthControlRemovesAPureLengthPreference() {
        // A judge that looks only at length: P(A wins) = sigmoid(2 tanh(d / sd(d))), with A usually longer.
        Random r = new Random(1);
        int n = 3000;
        double[] s = new double[n], la = new double[n], lb = new double[n];
        for (int i = 0; i < n; i++) {
            la[i] = 60 + 40 * r.nextGaussian() + 30;
            lb[i] = 60 + 40 * r.nextGaussian();
        }
        double sd = sdOfDiff(la, lb);
        for (int i = 0; i < n; i++)
            s[i] = r.nextDouble() < LengthControlledWinRate.sigmoid(2 * Math.tanh((la[i] - lb[i]) / sd)) ? 1 : 0;
        WinRate raw = WinRate.bootstrap(s, 500, 0);
        LengthControlledWinRate lc = LengthControlledWinRate.fit(s, la, lb, 200, 0);
        assertTrue(raw.winRate() > 0.62, "raw " + raw);
        assertEquals(0.5, lc.winRate(), 0.03, lc.toString());
        assertTrue(lc.ciLow() < 0.5 && 0.5 < lc.ciHigh(), lc.toString());
        assertEquals(2.0, lc.slope(), 0.25);

        // Same judge plus a real quality edge b0 = 1: LC recovers sigmoid(1) = 0.731.
        for (int i = 0; i < n; i++)
            s[i] = r.nextDouble() < LengthControlledWinRate.sigmoid(1 + 2 * Math.tanh((la[i] - lb[i]) / sd)) ? 1 : 0;
        assertEquals(
                LengthControlledWinRate.sigmoid(1),
                LengthControlledWinRate.fit(s, la, lb, 50, 0).winRate(),
                0.03);
    }

    @Test
    void equalLengthsOrASweepFallBackSensibly() {
        double[] s = scores(7, 2, 3), same = new double[12];
        LengthControlledWinRate lc = LengthControlledWinRate.fit(s, same, same, 100, 0);
        assertEquals(8.0 / 12, lc.winRate(), 1e-6); // the 1e-6 ridge shrinks b0 a hair
        double[] all = scores(12, 0, 0), la = new double[12], lb = new double[12];
        for (int i = 0; i < 12; i++) la[i] = i;
        LengthControlledWinRate sweep = LengthControlledWinRate.fit(all, la, lb, 100, 0);
        assertTrue(sweep.winRate() > 0.999 && Double.isFinite(sweep.intercept()), sweep.toString());
    }

    @Test
    void summaryTableHasTheCommonColumns() {
        Table t = WinRate.summary(
                "rlcd",
                "rlaif",
                scores(6, 2, 2),
                new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
                new double[] {5, 5, 5, 5, 5, 5, 5, 5, 5, 5},
                500,
                0);
        assertEquals(1, t.rowCount());
        assertEquals(6, t.intColumn("wins_a").get(0));
        assertEquals(2, t.intColumn("ties").get(0));
        assertEquals(2, t.intColumn("wins_b").get(0));
        assertEquals(0.7, t.doubleColumn("win_rate").get(0), 1e-12);
        assertFalse(Double.isNaN(t.doubleColumn("lc_win_rate").get(0)));
    }

    private static double sdOfDiff(double[] a, double[] b) {
        double m = 0, s = 0;
        for (int i = 0; i < a.length; i++) m += a[i] - b[i];
        m /= a.length;
        for (int i = 0; i < a.length; i++) s += (a[i] - b[i] - m) * (a[i] - b[i] - m);
        return Math.sqrt(s / a.length);
    }
}
