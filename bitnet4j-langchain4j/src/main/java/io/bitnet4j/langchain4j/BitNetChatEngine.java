package io.bitnet4j.langchain4j;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import io.bitnet4j.generate.BitNetModel;
import io.bitnet4j.generate.GenerationParams;
import io.bitnet4j.generate.GenerationResult;
import io.bitnet4j.generate.Session;
import io.bitnet4j.generate.TokenListener;
import io.bitnet4j.sampling.SamplerParams;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What both LangChain4j models share: the loaded model, one session whose KV cache carries a conversation's earlier
 * turns over to the next call (only the new messages are evaluated), and the translation of LangChain4j requests and
 * responses. Calls take turns on the session.
 */
final class BitNetChatEngine implements AutoCloseable {
    private final BitNetModel model;
    private final boolean ownsModel;
    private final Session session;
    private final SamplerParams sampler;
    private final ChatRequestParameters defaults;
    private final ReentrantLock lock = new ReentrantLock();

    BitNetChatEngine(BitNetModel model, boolean ownsModel, int contextSize, SamplerParams sampler,
                     ChatRequestParameters defaults) {
        this.model = model;
        this.ownsModel = ownsModel;
        this.session = model.newSession(contextSize > 0 ? contextSize : model.defaultContextSize());
        this.sampler = sampler;
        this.defaults = defaults;
    }

    ChatRequestParameters defaults() {
        return defaults;
    }

    /** Generates the reply to {@code request}, handing each piece of text to {@code listener} (may be null). */
    ChatResponse chat(ChatRequest request, TokenListener listener) {
        ChatRequestParameters p = defaults.overrideWith(request.parameters());
        if (p.toolSpecifications() != null && !p.toolSpecifications().isEmpty()) {
            throw new UnsupportedOperationException("bitnet4j chat models do not support tools");
        }
        int[] prompt = model.encode(model.chatPrompt(messages(request.messages())));
        GenerationParams params = new GenerationParams(p.maxOutputTokens() != null ? p.maxOutputTokens() : -1,
                samplerFor(p), p.stopSequences(), false);
        GenerationResult r;
        lock.lock();
        try {
            r = session.generate(prompt, params, listener);
        } finally {
            lock.unlock();
        }
        return ChatResponse.builder()
                .aiMessage(AiMessage.from(r.text()))
                .tokenUsage(new TokenUsage(r.promptIds().length, r.generatedIds().length))
                .finishReason(switch (r.stopReason()) {
                    case MAX_TOKENS, CONTEXT_FULL -> FinishReason.LENGTH;
                    case END_OF_GENERATION, STOP_STRING -> FinishReason.STOP;
                    case CANCELLED -> FinishReason.OTHER;
                })
                .modelName(p.modelName())
                .build();
    }

    private SamplerParams samplerFor(ChatRequestParameters p) {
        SamplerParams s = sampler;
        return new SamplerParams(
                p.temperature() != null ? p.temperature().floatValue() : s.temperature(),
                p.topK() != null ? p.topK() : s.topK(),
                p.topP() != null ? p.topP().floatValue() : s.topP(),
                s.minP(), s.repeatPenalty(), s.repeatLastN(),
                p.frequencyPenalty() != null ? p.frequencyPenalty().floatValue() : s.frequencyPenalty(),
                p.presencePenalty() != null ? p.presencePenalty().floatValue() : s.presencePenalty(),
                s.seed());
    }

    /** LangChain4j messages as bitnet4j chat turns; tool calls and non-text content are refused. */
    static List<io.bitnet4j.chat.ChatMessage> messages(List<ChatMessage> in) {
        if (in == null || in.isEmpty()) {
            throw new IllegalArgumentException("a chat request needs at least one message");
        }
        List<io.bitnet4j.chat.ChatMessage> out = new ArrayList<>(in.size());
        for (ChatMessage m : in) {
            out.add(switch (m) {
                case SystemMessage s -> io.bitnet4j.chat.ChatMessage.system(s.text());
                case UserMessage u when u.hasSingleText() -> io.bitnet4j.chat.ChatMessage.user(u.singleText());
                case AiMessage a when !a.hasToolExecutionRequests() ->
                        io.bitnet4j.chat.ChatMessage.assistant(a.text() == null ? "" : a.text());
                default -> throw new IllegalArgumentException("unsupported message for a bitnet4j chat model (only "
                        + "system, single-text user and plain AI messages): " + m.type());
            });
        }
        return out;
    }

    @Override
    public void close() {
        if (ownsModel) {
            model.close();
        }
    }
}
