package io.bitnet4j.server;

import io.javalin.http.Context;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.EndPoint;

/**
 * Tells whether the client of a non-streaming request has closed its connection while its answer is still being
 * generated. Jetty reads a connection only when a handler asks for request content, so once the body has been read
 * nothing notices the client's FIN, and nothing is written until the answer is ready. The probe does a non-blocking
 * read on the connection's endpoint: -1 is the hang-up (llama-server peeks its socket the same way). An HTTP/1.1
 * client sends nothing else while it waits for a response unless it pipelines; if bytes do arrive they cannot be
 * handed back to Jetty, so the probe stops and the response closes the connection instead of serving them.
 */
final class HangUpProbe {
    private final EndPoint endPoint;
    private final ByteBuffer scratch = ByteBuffer.allocate(256);
    private boolean swallowedBytes;

    HangUpProbe(Context ctx) {
        this.endPoint = ServletContextRequest.getServletContextRequest(ctx.req())
                .getConnectionMetaData().getConnection().getEndPoint();
    }

    /** True once the client has closed its side of the connection (or the connection failed). */
    boolean clientHungUp() {
        if (swallowedBytes) {
            return false;
        }
        try {
            scratch.clear().flip(); // Jetty's fill appends to the buffer's content: start empty
            int n = endPoint.fill(scratch);
            if (n > 0) {
                swallowedBytes = true;
            }
            return n < 0;
        } catch (IOException e) {
            return true;
        }
    }

    /** Whether the connection must close after the response, because bytes of a pipelined request were read. */
    boolean mustCloseConnection() {
        return swallowedBytes;
    }
}
