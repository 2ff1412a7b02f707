package io.bitnet4j.langchain4j;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;

/**
 * A LangChain4j {@link StreamingChatModel} that runs a BitNet model in this process (no HTTP). Each call returns at
 * once; the reply is generated on a virtual thread and handed to the handler piece by piece as it is produced, then
 * whole (with token usage and finish reason).
 */
public final class BitNetStreamingChatModel implements StreamingChatModel, AutoCloseable {
    private final BitNetChatEngine engine;

    private BitNetStreamingChatModel(BitNetChatEngine engine) {
        this.engine = engine;
    }

    public static BitNetChatModelBuilder<BitNetStreamingChatModel> builder() {
        return new BitNetChatModelBuilder<>(BitNetStreamingChatModel::new);
    }

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        Thread.ofVirtual().name("bitnet4j-chat").start(() -> {
            try {
                handler.onCompleteResponse(engine.chat(request, (id, text) -> {
                    if (!text.isEmpty()) {
                        handler.onPartialResponse(text);
                    }
                }));
            } catch (RuntimeException e) {
                handler.onError(e);
            }
        });
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
