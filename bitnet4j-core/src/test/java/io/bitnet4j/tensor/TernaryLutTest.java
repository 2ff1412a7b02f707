package io.bitnet4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The table-lookup decode kernel against plain arithmetic: the packed layout and tables give every row's exact
 * Σ w·q (scalar reference), and the vector kernel gives I2_S's reference result bit for bit, for row counts that
 * are not whole blocks, rows that need padding to whole words, and long rows at the int8 limits.
 */
class TernaryLutTest {
    @BeforeEach
    void needsTheKernel() {
        assumeTrue(TernaryLut.ENABLED, "the lookup kernel needs 512-bit vectors with AVX-512 (this JVM prefers "
                + jdk.incubator.vector.ShortVector.SPECIES_PREFERRED + ")");
    }

    /** Σ (code - 1) * q of one row, from the I2_S codes. */
    private static int exactDot(I2sMatrix m, Activations x, int row) {
        int sum = 0;
        for (int i = 0; i < m.in; i++) {
            sum += (m.code(row, i) - 1) * x.q[i];
        }
        return sum;
    }

    private static I2sMatrix matrix(Random rnd, int in, int out) {
        return (I2sMatrix) MatMulKernelTest.matrix(GgmlType.I2_S, QuantizeTest.ternary(rnd, in * out, 0.0672607421875f), in);
    }

    @Test
    void packedWeightsAndTablesGiveTheExactRowSums() {
        Random rnd = new Random(3);
        for (int[] shape : new int[][] {{128, 1}, {256, 37}, {2560, 70}, {6912, 33}}) {
            int in = shape[0];
            int out = shape[1];
            I2sMatrix m = matrix(rnd, in, out);
            assertNotNull(m.lut, "I2_S " + in + "x" + out + " has no lookup form");
            Activations x = MatMulKernelTest.activations(ActivationFormat.I8_ROW,
                    MatMulKernelTest.randomRows(rnd, 1, in));
            for (int r = 0; r < out; r++) {
                assertTrue(m.lut.ready(r / TernaryLut.ROWS));
                assertEquals(exactDot(m, x, r), m.lut.dotReference(r, x.lut), in + "x" + out + " row " + r);
            }
        }
    }

    @Test
    void kernelEqualsTheI2sReferenceOverWholeBlocksAndARaggedEnd() {
        Random rnd = new Random(4);
        int in = 2560;
        int out = 3 * TernaryLut.ROWS + 5;
        I2sMatrix m = matrix(rnd, in, out);
        Activations x = MatMulKernelTest.activations(ActivationFormat.I8_ROW, MatMulKernelTest.randomRows(rnd, 1, in));
        MatMulKernelTest.assertFastMatchesReference(m, x, 0, out);
        MatMulKernelTest.assertFastMatchesReference(m, x, TernaryLut.ROWS, 2 * TernaryLut.ROWS);
        MatMulKernelTest.assertFastMatchesReference(m, x, 2 * TernaryLut.ROWS, out);
    }

    @Test
    void sharesForSeveralThreadsGiveTheSameResultOverAnySlice() {
        Random rnd = new Random(5);
        int in = 2560;
        int out = 7 * TernaryLut.ROWS + 5; // 8 blocks: for 3 threads, shares of 3, 3 and 2 blocks
        I2sMatrix m = matrix(rnd, in, out);
        for (int index = 0; index < 3; index++) {
            m.lut.prepare(index, 3);
        }
        int share = 3 * TernaryLut.ROWS;
        assertEquals(m.lut.offset(3, 0), (long) 3 * m.lut.words * TernaryLut.ROWS * 2,
                "the second share starts after the whole of the first");
        for (int tokens : new int[] {1, 5}) {
            Activations x = MatMulKernelTest.activations(ActivationFormat.I8_ROW,
                    MatMulKernelTest.randomRows(rnd, tokens, in));
            MatMulKernelTest.assertFastMatchesReference(m, x, 0, out);
            MatMulKernelTest.assertFastMatchesReference(m, x, share, 2 * share);
            MatMulKernelTest.assertFastMatchesReference(m, x, 2 * share, out);
            MatMulKernelTest.assertFastMatchesReference(m, x, TernaryLut.ROWS, out - 3); // across shares
        }
    }

    @Test
    void batchKernelEqualsTheI2sReferenceForOneToNineTokens() {
        Random rnd = new Random(8);
        for (int in : new int[] {2560, 6912}) {
            int out = 2 * TernaryLut.ROWS + 7;
            I2sMatrix m = matrix(rnd, in, out);
            for (int tokens = 2; tokens <= 9; tokens++) {
                Activations x = MatMulKernelTest.activations(ActivationFormat.I8_ROW,
                        MatMulKernelTest.randomRows(rnd, tokens, in));
                MatMulKernelTest.assertFastMatchesReference(m, x, 0, out);
                MatMulKernelTest.assertFastMatchesReference(m, x, TernaryLut.ROWS, out);
            }
        }
    }

    @Test
    void longRowsAtTheInt8LimitsFlushBeforeInt16Overflows() {
        int in = 6912;
        int out = TernaryLut.ROWS;
        float[] w = new float[in * out];
        Arrays.fill(w, 0, in * out / 2, 1f);
        Arrays.fill(w, in * out / 2, in * out, -1f);
        I2sMatrix m = (I2sMatrix) MatMulKernelTest.matrix(GgmlType.I2_S, w, in);
        for (int code : new int[] {127, -127, -128}) {
            for (int tokens : new int[] {1, 5}) {
                float[][] rows = new float[tokens][in];
                for (float[] row : rows) {
                    Arrays.fill(row, 1f);
                }
                Activations x = MatMulKernelTest.activations(ActivationFormat.I8_ROW, rows);
                for (int t = 0; t < tokens; t++) {
                    for (int i = 0; i < in; i++) {
                        MatMulKernelTest.setI8Code(x, t, i, code);
                    }
                }
                MatMulKernelTest.assertFastMatchesReference(m, x, 0, out);
                if (tokens == 1) {
                    assertEquals(in * code, m.lut.dotReference(0, x.lut));
                }
            }
        }
    }

    @Test
    void aBlockWithTheUnusedCode3KeepsTheI2sKernelAndTheOthersDoNot() {
        Random rnd = new Random(5);
        int in = 512;
        int out = 2 * TernaryLut.ROWS;
        byte[] bytes = Quantize.encode(GgmlType.I2_S, QuantizeTest.ternary(rnd, in * out, 0.5f), in);
        bytes[(TernaryLut.ROWS + 3) * in / 4 + 7] = (byte) 0xff; // four codes 3 in a row of the second block
        I2sMatrix m = (I2sMatrix) WeightMatrix.of("w", GgmlType.I2_S, new long[] {in, out}, MemorySegment.ofArray(bytes));
        Activations x = MatMulKernelTest.activations(ActivationFormat.I8_ROW, MatMulKernelTest.randomRows(rnd, 1, in));
        MatMulKernelTest.assertFastMatchesReference(m, x, 0, out);
        assertTrue(m.lut.ready(0));
        assertFalse(m.lut.ready(1));
    }

    @Test
    void tablesHoldEveryCombinationOfThreeWeights() {
        int in = 2560;
        byte[] q = new byte[in];
        Random rnd = new Random(6);
        for (int i = 0; i < in; i++) {
            q[i] = (byte) (rnd.nextInt(256) - 128);
        }
        short[] tables = new short[TernaryLut.groups(in) * TernaryLut.TABLE];
        TernaryLut.buildTables(q, 0, in, tables);
        int words = (in + 8) / 9;
        int groups = 3 * words;
        for (int w = 0; w < words; w += 17) {
            for (int j = 0; j < 3; j++) {
                int g = w + j * words;
                for (int e = 0; e < 27; e++) {
                    int want = 0;
                    int[] c = {e / 9, e / 3 % 3, e % 3};
                    for (int k = 0; k < 3; k++) {
                        int col = g + k * groups;
                        want += (c[k] - 1) * (col < in ? q[col] : 0);
                    }
                    assertEquals(want, tables[TernaryLut.TABLE * (3 * w + j) + e], "word " + w + " slot " + j);
                }
            }
        }
    }
}
