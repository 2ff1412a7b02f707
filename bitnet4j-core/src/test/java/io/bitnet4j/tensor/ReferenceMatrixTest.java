package io.bitnet4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link WeightMatrix#reference}: a view whose products come from the scalar reference dot, never the fast kernel. */
class ReferenceMatrixTest {
    /** A matrix whose fast kernel is deliberately wrong, so a view that still used it would show. */
    private static final class WrongFastKernel extends BaseMatrix {
        WrongFastKernel() {
            super("probe", 32, 3, MemorySegment.ofArray(new byte[32 * 3 * 4]));
        }

        @Override
        public GgmlType type() {
            return GgmlType.F32;
        }

        @Override
        public ActivationFormat activationFormat() {
            return ActivationFormat.F32;
        }

        @Override
        public void matMul(Activations x, float[] out, int outStride, int rowFrom, int rowTo) {
            java.util.Arrays.fill(out, -1f);
        }

        @Override
        public void dequantizeRow(int row, float[] dst, int dstOffset) {
            dst[dstOffset] = row;
        }

        @Override
        float dotReference(int row, Activations x, int t) {
            return 100 * t + row;
        }
    }

    @Test
    void productsComeFromTheReferenceDot() {
        WeightMatrix view = WeightMatrix.reference(new WrongFastKernel());
        Activations x = MatMulKernelTest.activations(ActivationFormat.F32, new float[2][32]);
        float[] out = new float[2 * 3];
        view.matMul(x, out, 3, 0, 3);
        assertArrayEquals(new float[] {0, 1, 2, 100, 101, 102}, out);
        assertSame(view, WeightMatrix.reference(view));
        assertEquals("probe", view.name());
        assertEquals(32, view.inFeatures());
        assertEquals(3, view.outFeatures());
    }

    @Test
    void aRealTypeGivesItsFastResultThroughTheView() {
        Random rnd = new Random(9);
        BaseMatrix m = MatMulKernelTest.matrix(GgmlType.I2_S, MatMulKernelTest.weights(GgmlType.I2_S, rnd, 256 * 8), 256);
        Activations x = MatMulKernelTest.activations(m.activationFormat(), MatMulKernelTest.randomRows(rnd, 3, 256));
        float[] fast = new float[3 * 8];
        float[] reference = new float[3 * 8];
        m.matMul(x, fast, 8, 0, 8);
        WeightMatrix.reference(m).matMul(x, reference, 8, 0, 8);
        assertArrayEquals(fast, reference);
        assertEquals(GgmlType.I2_S, WeightMatrix.reference(m).type());
    }
}
