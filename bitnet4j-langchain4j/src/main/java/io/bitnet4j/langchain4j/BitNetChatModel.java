package io.bitnet4j.langchain4j;

import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;

/**
 * A LangChain4j {@link ChatModel} that runs a BitNet model in this process (no HTTP). Usable directly or in an AI
 * Service:
 *
 * <pre>{@code
 * try (BitNetChatModel model = BitNetChatModel.builder().modelPath(Path.of("model.gguf")).maxTokens(256).build()) {
 *     Assistant a = AiServices.create(Assistant.class, model);
 *     System.out.println(a.chat("Hello"));
 * }
 * }</pre>
 */
public final class BitNetChatModel implements ChatModel, AutoCloseable {
    private final BitNetChatEngine engine;

    private BitNetChatModel(BitNetChatEngine engine) {
        this.engine = engine;
    }

    public static BitNetChatModelBuilder<BitNetChatModel> builder() {
        return new BitNetChatModelBuilder<>(BitNetChatModel::new);
    }

    @Override
    public ChatResponse doChat(ChatRequest request) {
        return engine.chat(request, null);
    }

    @Override
    public ChatRequestParameters defaultRequestParameters() {
        return engine.defaults();
    }

    /** Closes the model if this chat model loaded it. */
    @Override
    public void close() {
        engine.close();
    }
}
