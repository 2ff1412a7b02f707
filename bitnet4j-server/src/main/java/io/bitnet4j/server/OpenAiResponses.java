package io.bitnet4j.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bitnet4j.generate.GenerationResult;
import io.bitnet4j.generate.StopReason;
import java.util.UUID;

/**
 * The JSON bodies of one response, shaped as OpenAI documents them: {@code chat.completion} /
 * {@code chat.completion.chunk} for chat, {@code text_completion} for the legacy completions API.
 */
final class OpenAiResponses {
    private final ObjectMapper json;
    private final boolean chat;
    private final String id;
    private final long created = System.currentTimeMillis() / 1000;
    private final String model;
    private final boolean includeUsage;

    OpenAiResponses(ObjectMapper json, boolean chat, String model, boolean includeUsage) {
        this.json = json;
        this.chat = chat;
        this.id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
        this.model = model;
        this.includeUsage = includeUsage;
    }

    boolean includesUsage() {
        return includeUsage;
    }

    /** OpenAI's finish_reason: "stop" for an end token or stop sequence, "length" for max_tokens or a full context. */
    static String finishReason(StopReason r) {
        return switch (r) {
            case MAX_TOKENS, CONTEXT_FULL -> "length";
            case END_OF_GENERATION, STOP_STRING, CANCELLED -> "stop";
        };
    }

    ObjectNode complete(GenerationResult r) {
        ObjectNode o = head(chat ? "chat.completion" : "text_completion");
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", 0);
        if (chat) {
            ObjectNode m = choice.putObject("message");
            m.put("role", "assistant");
            m.put("content", r.text());
            m.putNull("refusal");
        } else {
            choice.put("text", r.text());
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason(r.stopReason()));
        usage(o, r);
        return o;
    }

    /** The first chunk of a chat stream announces the role, as OpenAI's does. */
    ObjectNode roleChunk() {
        ObjectNode o = chunkHead();
        ObjectNode delta = choice(o).putObject("delta");
        delta.put("role", "assistant");
        delta.put("content", "");
        return o;
    }

    ObjectNode textChunk(String text) {
        ObjectNode o = chunkHead();
        ObjectNode c = choice(o);
        if (chat) {
            c.putObject("delta").put("content", text);
        } else {
            c.put("text", text);
        }
        return o;
    }

    ObjectNode finishChunk(StopReason reason) {
        ObjectNode o = chunkHead();
        ObjectNode c = choice(o);
        if (chat) {
            c.putObject("delta");
        } else {
            c.put("text", "");
        }
        c.put("finish_reason", finishReason(reason));
        return o;
    }

    /** With stream_options.include_usage: a last chunk with no choices and the counts. */
    ObjectNode usageChunk(GenerationResult r) {
        ObjectNode o = head(chat ? "chat.completion.chunk" : "text_completion");
        o.putArray("choices");
        usage(o, r);
        return o;
    }

    private ObjectNode choice(ObjectNode chunk) {
        ObjectNode c = chunk.putArray("choices").addObject();
        c.put("index", 0);
        c.putNull("logprobs");
        c.putNull("finish_reason");
        return c;
    }

    private ObjectNode chunkHead() {
        ObjectNode o = head(chat ? "chat.completion.chunk" : "text_completion");
        if (includeUsage) {
            o.putNull("usage");
        }
        return o;
    }

    private ObjectNode head(String object) {
        ObjectNode o = json.createObjectNode();
        o.put("id", id);
        o.put("object", object);
        o.put("created", created);
        o.put("model", model);
        o.put("system_fingerprint", "bitnet4j");
        return o;
    }

    private static void usage(ObjectNode o, GenerationResult r) {
        ObjectNode u = o.putObject("usage");
        int in = r.promptIds().length;
        int out = r.generatedIds().length;
        u.put("prompt_tokens", in);
        u.put("completion_tokens", out);
        u.put("total_tokens", in + out);
    }
}
