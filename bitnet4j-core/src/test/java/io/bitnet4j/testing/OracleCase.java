package io.bitnet4j.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One record of an oracle folder's {@code cases.jsonl}: a prompt and what the reference engine computed for it
 * (see shared/testdata/oracle/README.md).
 */
public record OracleCase(Path folder, String model, String prompt, boolean addBos, int[] promptIds, int[] greedyIds,
        int[][] top5Ids, float[][] top5Logits, int indexInModel) {

    public Path modelPath() {
        return folder.resolve(model);
    }

    /** Logits at the last prompt position, when the folder has them ({@code logits/<model>.p<i>.last_logits.npy}). */
    public float[] lastLogits() {
        Path p = folder.resolve("logits").resolve(model.replace(".gguf", "") + ".p" + indexInModel + ".last_logits.npy");
        return Files.exists(p) ? readNpyFloat32(p) : null;
    }

    public static List<OracleCase> load(Path folder) {
        ObjectMapper json = new ObjectMapper();
        List<OracleCase> cases = new ArrayList<>();
        try {
            java.util.Map<String, Integer> perModel = new java.util.HashMap<>();
            for (String line : Files.readAllLines(folder.resolve("cases.jsonl"))) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode n = json.readTree(line);
                String model = n.get("model").asText();
                JsonNode top5 = n.get("top5");
                int[][] ids = new int[top5.size()][];
                float[][] logits = new float[top5.size()][];
                for (int s = 0; s < top5.size(); s++) {
                    JsonNode step = top5.get(s);
                    ids[s] = new int[step.size()];
                    logits[s] = new float[step.size()];
                    for (int j = 0; j < step.size(); j++) {
                        ids[s][j] = step.get(j).get(0).asInt();
                        logits[s][j] = (float) step.get(j).get(1).asDouble();
                    }
                }
                int index = perModel.merge(model, 1, Integer::sum) - 1;
                cases.add(new OracleCase(folder, model, n.get("prompt").asText(), n.get("add_bos").asBoolean(),
                        ints(n.get("prompt_ids")), ints(n.get("greedy_ids")), ids, logits, index));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return cases;
    }

    private static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).asInt();
        }
        return r;
    }

    /** Reads a 1-D little-endian float32 .npy file. */
    static float[] readNpyFloat32(Path p) {
        try {
            byte[] all = Files.readAllBytes(p);
            ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
            if (all.length < 10 || (all[0] & 0xff) != 0x93 || !new String(all, 1, 5).equals("NUMPY")) {
                throw new IllegalArgumentException(p + ": not an .npy file");
            }
            int major = all[6];
            int headerLen = major == 1 ? Short.toUnsignedInt(b.getShort(8)) : b.getInt(8);
            int dataStart = (major == 1 ? 10 : 12) + headerLen;
            String header = new String(all, major == 1 ? 10 : 12, headerLen);
            if (!header.contains("'<f4'") || header.contains("'fortran_order': True")) {
                throw new IllegalArgumentException(p + ": expected little-endian float32, C order: " + header);
            }
            Matcher m = Pattern.compile("'shape': \\((\\d+),\\)").matcher(header);
            if (!m.find()) {
                throw new IllegalArgumentException(p + ": expected a 1-D array: " + header);
            }
            int n = Integer.parseInt(m.group(1));
            float[] r = new float[n];
            b.position(dataStart);
            b.asFloatBuffer().get(r);
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
