package io.bitnet4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.bitnet4j.chat.ChatMessage;
import io.bitnet4j.generate.GenerationParams;
import io.bitnet4j.sampling.SamplerParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The generation-relevant fields of an OpenAI {@code /v1/chat/completions} or {@code /v1/completions} body, checked
 * one by one so that each wrong field gets a 400 naming it. Besides OpenAI's fields, llama-server's {@code ignore_eos}
 * is honoured. Fields we do not use (user, logit_bias...) are ignored, as
 * OpenAI-compatible servers do; sampling settings not given take llama.cpp's defaults.
 *
 * @param messages     the conversation (chat), or null
 * @param prompt       the raw prompt (completions), or null
 * @param params       max tokens, sampling and stop strings
 * @param stream       answer with server-sent events
 * @param includeUsage with {@code stream}: send a last chunk carrying the usage counts
 */
record CompletionRequest(List<ChatMessage> messages, String prompt, GenerationParams params, boolean stream,
                         boolean includeUsage) {
    /** OpenAI accepts at most 4 stop sequences. */
    static final int MAX_STOPS = 4;
    private static final Map<String, String> ROLE_ALIASES = Map.of("developer", ChatMessage.SYSTEM);

    static CompletionRequest chat(JsonNode body) {
        requireObject(body);
        JsonNode msgs = body.get("messages");
        if (msgs == null || msgs.isNull()) {
            throw ApiException.invalid("messages", "'messages' is required");
        }
        if (!msgs.isArray()) {
            throw ApiException.invalid("messages", "'messages' must be an array");
        }
        if (msgs.isEmpty()) {
            throw ApiException.invalid("messages", "'messages' must contain at least one message");
        }
        List<ChatMessage> messages = new ArrayList<>(msgs.size());
        for (int i = 0; i < msgs.size(); i++) {
            messages.add(message(msgs.get(i), "messages[" + i + "]"));
        }
        int max = maxTokens(body, "max_completion_tokens");
        if (max == -1) {
            max = maxTokens(body, "max_tokens");
        }
        return new CompletionRequest(messages, null, params(body, max), stream(body), includeUsage(body));
    }

    static CompletionRequest completion(JsonNode body) {
        requireObject(body);
        JsonNode p = body.get("prompt");
        String prompt;
        if (p != null && p.isTextual()) {
            prompt = p.asText();
        } else if (p != null && p.isArray() && p.size() == 1 && p.get(0).isTextual()) {
            prompt = p.get(0).asText();
        } else if (p == null || p.isNull()) {
            throw ApiException.invalid("prompt", "'prompt' is required");
        } else {
            throw ApiException.invalid("prompt", "'prompt' must be a string (or an array of exactly one string)");
        }
        if (prompt.isEmpty()) {
            throw ApiException.invalid("prompt", "'prompt' must not be empty");
        }
        JsonNode echo = body.get("echo");
        if (echo != null && !echo.isNull() && !(echo.isBoolean() && !echo.asBoolean())) {
            throw ApiException.invalid("echo", "'echo' is not supported");
        }
        // the legacy completions API generates 16 tokens when max_tokens is absent
        int max = maxTokens(body, "max_tokens");
        return new CompletionRequest(null, prompt, params(body, max == -1 ? 16 : max), stream(body),
                includeUsage(body));
    }

    private static ChatMessage message(JsonNode m, String where) {
        if (m == null || !m.isObject()) {
            throw ApiException.invalid(where, where + " must be an object with 'role' and 'content'");
        }
        JsonNode r = m.get("role");
        if (r == null || !r.isTextual()) {
            throw ApiException.invalid(where + ".role", where + ".role must be a string");
        }
        String role = ROLE_ALIASES.getOrDefault(r.asText(), r.asText());
        if (!role.equals(ChatMessage.SYSTEM) && !role.equals(ChatMessage.USER) && !role.equals(ChatMessage.ASSISTANT)) {
            throw ApiException.invalid(where + ".role", "unknown role '" + r.asText() + "' in " + where
                    + " (expected system, developer, user or assistant)");
        }
        String content = content(m.get("content"), where + ".content");
        if (content.isEmpty() && !role.equals(ChatMessage.ASSISTANT)) {
            throw ApiException.invalid(where + ".content", where + ".content must not be empty");
        }
        return new ChatMessage(role, content);
    }

    /** A string, or an array of {@code {"type":"text","text":...}} parts (joined). */
    private static String content(JsonNode c, String where) {
        if (c == null || c.isNull()) {
            throw ApiException.invalid(where, where + " is required");
        }
        if (c.isTextual()) {
            return c.asText();
        }
        if (c.isArray()) {
            StringBuilder b = new StringBuilder();
            for (JsonNode part : c) {
                if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw ApiException.invalid(where, where + ": only text parts ({\"type\":\"text\",\"text\":...}) "
                            + "are supported");
                }
                b.append(part.get("text").asText());
            }
            return b.toString();
        }
        throw ApiException.invalid(where, where + " must be a string or an array of text parts");
    }

    private static void requireObject(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ApiException.invalid(null, "the request body must be a JSON object");
        }
    }

    /** -1 when absent; 400 unless a positive integer that fits in an int. */
    private static int maxTokens(JsonNode body, String name) {
        JsonNode n = body.get(name);
        if (n == null || n.isNull()) {
            return -1;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 1) {
            throw ApiException.invalid(name, "'" + name + "' must be a positive integer (at most "
                    + Integer.MAX_VALUE + "), got " + n);
        }
        return n.asInt();
    }

    private static GenerationParams params(JsonNode body, int maxTokens) {
        JsonNode n = body.get("n");
        if (n != null && !n.isNull() && !(n.isIntegralNumber() && n.asLong() == 1)) {
            throw ApiException.invalid("n", "only n = 1 is supported, got " + n);
        }
        SamplerParams d = SamplerParams.defaults();
        float temperature = number(body, "temperature", 0, 2, d.temperature());
        float topP = number(body, "top_p", 0, 1, d.topP());
        float frequency = number(body, "frequency_penalty", -2, 2, d.frequencyPenalty());
        float presence = number(body, "presence_penalty", -2, 2, d.presencePenalty());
        long seed = SamplerParams.RANDOM_SEED;
        JsonNode s = body.get("seed");
        if (s != null && !s.isNull()) {
            if (!s.isIntegralNumber() || !s.canConvertToLong()) {
                throw ApiException.invalid("seed", "'seed' must be an integer, got " + s);
            }
            seed = s.asLong();
        }
        SamplerParams sampler = new SamplerParams(temperature, d.topK(), topP, d.minP(), d.repeatPenalty(),
                d.repeatLastN(), frequency, presence, seed);
        // ignore_eos: llama-server's extension, for benchmarks that want exactly max_tokens tokens
        return new GenerationParams(maxTokens, sampler, stops(body.get("stop")), flag(body, "ignore_eos"));
    }

    private static float number(JsonNode body, String name, double min, double max, float absent) {
        JsonNode n = body.get(name);
        if (n == null || n.isNull()) {
            return absent;
        }
        if (!n.isNumber() || !(n.asDouble() >= min && n.asDouble() <= max)) {
            throw ApiException.invalid(name, "'" + name + "' must be a number in [" + fmt(min) + ", " + fmt(max)
                    + "], got " + n);
        }
        return (float) n.asDouble();
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    private static List<String> stops(JsonNode stop) {
        if (stop == null || stop.isNull()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (stop.isTextual()) {
            out.add(stop.asText());
        } else if (stop.isArray()) {
            for (JsonNode s : stop) {
                if (!s.isTextual()) {
                    throw ApiException.invalid("stop", "'stop' must be a string or an array of strings");
                }
                out.add(s.asText());
            }
        } else {
            throw ApiException.invalid("stop", "'stop' must be a string or an array of strings");
        }
        if (out.size() > MAX_STOPS) {
            throw ApiException.invalid("stop", "at most " + MAX_STOPS + " stop sequences are allowed, got "
                    + out.size());
        }
        if (out.stream().anyMatch(String::isEmpty)) {
            throw ApiException.invalid("stop", "a stop sequence must not be empty");
        }
        return out;
    }

    private static boolean stream(JsonNode body) {
        return flag(body, "stream");
    }

    private static boolean includeUsage(JsonNode body) {
        JsonNode o = body.get("stream_options");
        if (o == null || o.isNull()) {
            return false;
        }
        if (!o.isObject()) {
            throw ApiException.invalid("stream_options", "'stream_options' must be an object");
        }
        return flag(o, "include_usage");
    }

    private static boolean flag(JsonNode node, String name) {
        JsonNode f = node.get(name);
        if (f == null || f.isNull()) {
            return false;
        }
        if (!f.isBoolean()) {
            throw ApiException.invalid(name, "'" + name + "' must be true or false, got " + f);
        }
        return f.asBoolean();
    }
}
