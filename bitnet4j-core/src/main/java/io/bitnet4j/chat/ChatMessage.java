package io.bitnet4j.chat;

import java.util.Objects;

/**
 * One turn of a conversation. The role is one of {@code system}, {@code user}, {@code assistant} — the roles every
 * built-in template knows how to render.
 */
public record ChatMessage(String role, String content) {
    public static final String SYSTEM = "system";
    public static final String USER = "user";
    public static final String ASSISTANT = "assistant";

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        if (!role.equals(SYSTEM) && !role.equals(USER) && !role.equals(ASSISTANT)) {
            throw new IllegalArgumentException(
                    "unknown chat role '" + role + "' (expected system, user or assistant)");
        }
    }

    public static ChatMessage system(String content) {
        return new ChatMessage(SYSTEM, content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage(USER, content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage(ASSISTANT, content);
    }
}
