package rlcd4j.train;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Each PPO loss piece against values worked out by hand, and the loss gradient against finite differences. */
class PpoLossTest {

    @Test
    void klPenaltyIsClampedAtZeroAndTheScoreGoesOnTheLastToken() {
        // logp - ref = 0.5, -1.0 (clamped to 0), 0; coefficient 0.1; score 2
        double[] r = PpoTrainer.shapedRewards(new float[] {-1f, -2f, -0.5f}, new float[] {-1.5f, -1f, -0.5f}, 0.1, 2.0);
        assertArrayEquals(new double[] {-0.05, 0.0, 2.0}, r, 1e-7);
    }

    @Test
    void gaeWithGammaAndLambdaOneIsRewardToGoMinusValue() {
        double[][] ar = PpoTrainer.gae(new double[] {-0.05, 0, 2}, new double[] {0.5, 1.0, 1.5}, 1, 1);
        assertArrayEquals(new double[] {1.45, 1.0, 0.5}, ar[0], 1e-12); // advantages
        assertArrayEquals(new double[] {1.95, 2.0, 2.0}, ar[1], 1e-12); // returns = sum of rewards to go
        // gamma 0.9, lambda 0.5: delta2 = 0.5; delta1 = 0 + 0.9*1.5 - 1 = 0.35, A1 = 0.35 + 0.45*0.5 = 0.575;
        // delta0 = -0.05 + 0.9*1 - 0.5 = 0.35, A0 = 0.35 + 0.45*0.575 = 0.60875
        double[][] g = PpoTrainer.gae(new double[] {-0.05, 0, 2}, new double[] {0.5, 1.0, 1.5}, 0.9, 0.5);
        assertArrayEquals(new double[] {0.60875, 0.575, 0.5}, g[0], 1e-12);
        assertArrayEquals(new double[] {1.10875, 1.575, 2.0}, g[1], 1e-12);
    }

    @Test
    void whiteningUsesAllTokensOfAllRows() {
        // tokens 1, 2 | 3: mean 2, population variance 2/3
        double s = Math.sqrt(2.0 / 3 + 1e-8);
        List<double[]> rows = new ArrayList<>(List.of(new double[] {1, 2}, new double[] {3}));
        PpoTrainer.whiten(rows, true);
        assertArrayEquals(new double[] {-1 / s, 0}, rows.get(0), 1e-9);
        assertArrayEquals(new double[] {1 / s}, rows.get(1), 1e-9);
        List<double[]> keep = new ArrayList<>(List.of(new double[] {1, 2}, new double[] {3}));
        PpoTrainer.whiten(keep, false); // rewards: divided by the std, mean kept
        assertArrayEquals(new double[] {2 - 1 / s, 2}, keep.get(0), 1e-9);
        assertArrayEquals(new double[] {2 + 1 / s}, keep.get(1), 1e-9);
    }

    @Test
    void clippedPolicyAndValueLossesByHand() {
        try (NDManager m = NDManager.newBaseManager()) {
            // ratios 1, 1.5, 0.5 and a masked-out fourth token; advantages 1, 1, -1; clip 0.2
            NDArray logp =
                    m.create(new float[] {0f, (float) Math.log(1.5), (float) Math.log(0.5), 5f}, new Shape(1, 4));
            NDArray old = m.zeros(new Shape(1, 4));
            NDArray adv = m.create(new float[] {1f, 1f, -1f, 100f}, new Shape(1, 4));
            NDArray mask = m.create(new float[] {1f, 1f, 1f, 0f}, new Shape(1, 4));
            // token 0: max(-1, -1) = -1; token 1: max(-1.5, -1.2) = -1.2 (clipped); token 2: max(0.5, 0.8) = 0.8
            // (clipped)
            assertEquals(
                    -1.4, PpoTrainer.policyLossSum(logp, old, adv, mask, 0.2).getFloat(), 1e-6);
            assertEquals(2.0, PpoTrainer.clipFraction(logp, old, adv, mask, 0.2), 0);

            // v = 1 vs old 0.5 -> clipped 0.7, return 2: max(1, 1.69) = 1.69; v = 0 vs old 0.5 -> 0.3, return 0: max(0,
            // 0.09)
            NDArray v = m.create(new float[] {1f, 0f, 9f}, new Shape(1, 3));
            NDArray oldV = m.create(new float[] {0.5f, 0.5f, 0f}, new Shape(1, 3));
            NDArray ret = m.create(new float[] {2f, 0f, 0f}, new Shape(1, 3));
            NDArray vm = m.create(new float[] {1f, 1f, 0f}, new Shape(1, 3));
            assertEquals(
                    0.5 * (1.69 + 0.09),
                    PpoTrainer.valueLossSum(v, oldV, ret, vm, 0.2).getFloat(),
                    1e-6);
            assertEquals(2.0, PpoTrainer.valueClipFraction(v, oldV, ret, vm, 0.2), 0);
        }
    }

    @Test
    void lossGradientMatchesFiniteDifferencesInFloat64() {
        Random rnd = new Random(3);
        int n = 12;
        double[] logp = new double[n], old = new double[n], adv = new double[n], mask = new double[n];
        double[] v = new double[n], oldV = new double[n], ret = new double[n];
        for (int i = 0; i < n; i++) {
            old[i] = -1 - rnd.nextDouble();
            logp[i] = old[i] + (rnd.nextDouble() - 0.5) * 0.8; // ratios on both sides of the clip range
            adv[i] = rnd.nextGaussian();
            mask[i] = i % 5 == 4 ? 0 : 1;
            oldV[i] = rnd.nextGaussian();
            v[i] = oldV[i] + (rnd.nextDouble() - 0.5);
            ret[i] = rnd.nextGaussian();
        }
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray lp = m.create(logp, new Shape(2, 6)), vp = m.create(v, new Shape(2, 6));
            lp.setRequiresGradient(true);
            vp.setRequiresGradient(true);
            double[] gLp, gV;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(loss(m, lp, vp, old, adv, mask, oldV, ret));
            }
            gLp = lp.getGradient().toDoubleArray();
            gV = vp.getGradient().toDoubleArray();
            double h = 1e-6, maxErr = 0;
            for (int i = 0; i < n; i++) {
                for (int which = 0; which < 2; which++) {
                    double[] plus = (which == 0 ? logp : v).clone(), minus = plus.clone();
                    plus[i] += h;
                    minus[i] -= h;
                    double fp = which == 0
                            ? loss(
                                            m,
                                            m.create(plus, new Shape(2, 6)),
                                            m.create(v, new Shape(2, 6)),
                                            old,
                                            adv,
                                            mask,
                                            oldV,
                                            ret)
                                    .getDouble()
                            : loss(
                                            m,
                                            m.create(logp, new Shape(2, 6)),
                                            m.create(plus, new Shape(2, 6)),
                                            old,
                                            adv,
                                            mask,
                                            oldV,
                                            ret)
                                    .getDouble();
                    double fm = which == 0
                            ? loss(
                                            m,
                                            m.create(minus, new Shape(2, 6)),
                                            m.create(v, new Shape(2, 6)),
                                            old,
                                            adv,
                                            mask,
                                            oldV,
                                            ret)
                                    .getDouble()
                            : loss(
                                            m,
                                            m.create(logp, new Shape(2, 6)),
                                            m.create(minus, new Shape(2, 6)),
                                            old,
                                            adv,
                                            mask,
                                            oldV,
                                            ret)
                                    .getDouble();
                    double fd = (fp - fm) / (2 * h);
                    double ad = which == 0 ? gLp[i] : gV[i];
                    maxErr = Math.max(maxErr, Math.abs(fd - ad));
                }
            }
            assertTrue(maxErr < 1e-8, "max |autograd - finite difference| = " + maxErr);
            // masked tokens get no gradient; clipped ones (ratio outside [0.8, 1.2] on the losing side) neither
            assertEquals(0.0, gLp[4]);
            assertEquals(0.0, gV[9]);
        }
    }

    private static NDArray loss(
            NDManager m,
            NDArray lp,
            NDArray vp,
            double[] old,
            double[] adv,
            double[] mask,
            double[] oldV,
            double[] ret) {
        Shape s = new Shape(2, 6);
        NDArray mk = m.create(mask, s);
        return PpoTrainer.policyLossSum(lp, m.create(old, s), m.create(adv, s), mk, 0.2)
                .add(PpoTrainer.valueLossSum(vp, m.create(oldV, s), m.create(ret, s), mk, 0.2)
                        .mul(0.1))
                .div(10.0);
    }
}
