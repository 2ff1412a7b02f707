package io.bitnet4j.model;

import io.bitnet4j.gguf.GgufException;
import io.bitnet4j.gguf.GgufFile;
import io.bitnet4j.gguf.TensorInfo;
import io.bitnet4j.tensor.WeightMatrix;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Typed views of a model's tensors over the file mapping. Linear weights stay in the mapping (no copy); the small
 * norm vectors are copied to float arrays.
 */
public record ModelWeights(WeightMatrix tokenEmbedding, float[] outputNorm, WeightMatrix output, Layer[] layers) {

    /** One transformer block. Sub-norms are null for architectures without them; scales are 1 when absent. */
    public record Layer(
            float[] attnNorm, WeightMatrix wq, WeightMatrix wk, WeightMatrix wv, float[] attnSubNorm, WeightMatrix wo,
            float[] ffnNorm, WeightMatrix gate, WeightMatrix up, float[] ffnSubNorm, WeightMatrix down,
            float wqScale, float wkScale, float wvScale, float woScale, float gateScale, float upScale, float downScale) {}

    /** Every weight matrix once: the token embedding, the output head unless tied to it, each layer's seven. */
    public List<WeightMatrix> matrices() {
        List<WeightMatrix> all = new ArrayList<>();
        all.add(tokenEmbedding);
        if (output != tokenEmbedding) {
            all.add(output);
        }
        for (Layer l : layers) {
            all.addAll(List.of(l.wq(), l.wk(), l.wv(), l.wo(), l.gate(), l.up(), l.down()));
        }
        return all;
    }

    /** These weights with every product computed by the scalar reference kernels ({@link WeightMatrix#reference}). */
    public ModelWeights withReferenceKernels() {
        Layer[] ref = new Layer[layers.length];
        for (int i = 0; i < layers.length; i++) {
            Layer l = layers[i];
            ref[i] = new Layer(l.attnNorm(), WeightMatrix.reference(l.wq()), WeightMatrix.reference(l.wk()),
                    WeightMatrix.reference(l.wv()), l.attnSubNorm(), WeightMatrix.reference(l.wo()), l.ffnNorm(),
                    WeightMatrix.reference(l.gate()), WeightMatrix.reference(l.up()), l.ffnSubNorm(),
                    WeightMatrix.reference(l.down()), l.wqScale(), l.wkScale(), l.wvScale(), l.woScale(),
                    l.gateScale(), l.upScale(), l.downScale());
        }
        return new ModelWeights(WeightMatrix.reference(tokenEmbedding), outputNorm, WeightMatrix.reference(output), ref);
    }

    public static ModelWeights load(GgufFile f, ModelConfig c) {
        WeightMatrix embd = matrix(f, "token_embd.weight", c.dim(), c.vocabSize());
        WeightMatrix output = f.hasTensor("output.weight") ? matrix(f, "output.weight", c.dim(), c.vocabSize()) : embd;
        Layer[] layers = new Layer[c.layers()];
        boolean sub = c.architecture().subNorms;
        for (int i = 0; i < c.layers(); i++) {
            String p = "blk." + i + ".";
            layers[i] = new Layer(
                    vector(f, p + "attn_norm.weight", c.dim()),
                    matrix(f, p + "attn_q.weight", c.dim(), c.qDim()),
                    matrix(f, p + "attn_k.weight", c.dim(), c.kvDim()),
                    matrix(f, p + "attn_v.weight", c.dim(), c.kvDim()),
                    sub ? vector(f, p + "attn_sub_norm.weight", c.qDim()) : null,
                    matrix(f, p + "attn_output.weight", c.qDim(), c.dim()),
                    vector(f, p + "ffn_norm.weight", c.dim()),
                    matrix(f, p + "ffn_gate.weight", c.dim(), c.ffDim()),
                    matrix(f, p + "ffn_up.weight", c.dim(), c.ffDim()),
                    sub ? vector(f, p + "ffn_sub_norm.weight", c.ffDim()) : null,
                    matrix(f, p + "ffn_down.weight", c.ffDim(), c.dim()),
                    scale(f, p + "attn_q.scale"), scale(f, p + "attn_k.scale"), scale(f, p + "attn_v.scale"),
                    scale(f, p + "attn_output.scale"), scale(f, p + "ffn_gate.scale"), scale(f, p + "ffn_up.scale"),
                    scale(f, p + "ffn_down.scale"));
        }
        return new ModelWeights(embd, vector(f, "output_norm.weight", c.dim()), output, layers);
    }

    private static WeightMatrix matrix(GgufFile f, String name, int in, int out) {
        TensorInfo t = f.tensorInfo(name);
        long[] s = t.shape();
        if (s.length != 2 || s[0] != in || s[1] != out) {
            throw new GgufException("tensor '" + name + "' has shape " + Arrays.toString(s) + ", expected [" + in + ", "
                    + out + "] from the model's hyper-parameters");
        }
        if (!t.type().hasKernel()) {
            throw new GgufException("tensor '" + name + "' has type " + t.type()
                    + ", which bitnet4j cannot compute with (supported: F32, F16, BF16, Q8_0, Q6_K, I2_S, TQ1_0, TQ2_0)");
        }
        return WeightMatrix.of(name, t.type(), s, f.tensorData(t));
    }

    private static float[] vector(GgufFile f, String name, int n) {
        TensorInfo t = f.tensorInfo(name);
        if (t.elementCount() != n || t.shape()[0] != n) {
            throw new GgufException("tensor '" + name + "' has shape " + t.shapeString() + ", expected [" + n + "]");
        }
        float[] v = new float[n];
        WeightMatrix.of(name, t.type(), new long[] {n, 1}, f.tensorData(t)).dequantizeRow(0, v, 0);
        return v;
    }

    private static float scale(GgufFile f, String name) {
        return f.hasTensor(name) ? vector(f, name, 1)[0] : 1f;
    }
}
