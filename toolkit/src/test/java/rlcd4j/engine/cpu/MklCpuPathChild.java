package rlcd4j.engine.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** Run by {@link MklCpuPathTest} in a fresh JVM: applies {@link MklCpuPath}, multiplies, prints what MKL chose. */
public final class MklCpuPathChild {
    private MklCpuPathChild() {}

    public static void main(String[] args) {
        String status = MklCpuPath.apply();
        int before = MklCpuPath.codePath();
        float[] a = new float[96 * 80], b = new float[80 * 16];
        for (int i = 0; i < a.length; i++) a[i] = (float) Math.sin(i * 0.37);
        for (int i = 0; i < b.length; i++) b[i] = (float) Math.cos(i * 0.11);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray product = m.create(a, new Shape(96, 80)).matMul(m.create(b, new Shape(80, 16)));
            float[] p = product.toFloatArray();
            StringBuilder values = new StringBuilder();
            for (float v : p) values.append(v).append(',');
            System.out.println("STATUS " + status);
            System.out.println("PATH " + before + " " + MklCpuPath.codePath());
            System.out.println("VALUES " + values);
        }
    }
}
