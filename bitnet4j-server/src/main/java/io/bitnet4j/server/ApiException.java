package io.bitnet4j.server;

/**
 * A request the server refuses, with the HTTP status and the fields of OpenAI's error body
 * {@code {"error":{"message","type","param","code"}}}.
 */
final class ApiException extends RuntimeException {
    final int status;
    final String type;
    final String code;
    final String param;

    ApiException(int status, String type, String code, String param, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.code = code;
        this.param = param;
    }

    /** 400: the request is malformed or asks for something impossible. */
    static ApiException invalid(String param, String message) {
        return new ApiException(400, "invalid_request_error", "invalid_value", param, message);
    }

    static ApiException unauthorized() {
        return new ApiException(401, "invalid_request_error", "invalid_api_key", null,
                "missing or wrong API key: send the header 'Authorization: Bearer <key>'");
    }

    /** 503: the server cannot take the request now (loading, queue full, shutting down); the client may retry. */
    static ApiException unavailable(String code, String message) {
        return new ApiException(503, "server_error", code, null, message);
    }
}
