package io.bitnet4j.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face hub on 127.0.0.1 serving made-up repos the way huggingface.co does: {@code /resolve/} answers LFS
 * files with a 302 to a "CDN" path and {@code X-Linked-Etag}/{@code X-Linked-Size}, small files directly with their
 * git sha1 as ETag; {@code /api/models/{repo}} lists the files. It can drop a connection mid-file or corrupt a file.
 */
public final class FakeHub implements AutoCloseable {
    public static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    public static final String TOKEN = "hf_secret";

    record RepoFile(byte[] bytes, boolean lfs) {}

    private final HttpServer server;
    private final Map<String, Map<String, RepoFile>> repos = new ConcurrentHashMap<>();
    private final Map<String, byte[]> cdn = new ConcurrentHashMap<>();
    private final Map<String, String> renamed = new ConcurrentHashMap<>();
    private final java.util.Set<String> gated = ConcurrentHashMap.newKeySet();
    public final AtomicInteger requests = new AtomicInteger();
    final List<String> ranges = Collections.synchronizedList(new ArrayList<>());
    /** When positive, the next CDN download is cut after this many bytes. */
    volatile long dropAfter = -1;
    /** When true, CDN downloads have one byte flipped. */
    volatile boolean corrupt;

    public FakeHub() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    public void addFile(String repo, String name, byte[] bytes, boolean lfs) {
        repos.computeIfAbsent(repo, r -> new LinkedHashMap<>()).put(name, new RepoFile(bytes, lfs));
        if (lfs) {
            cdn.put(sha256(bytes), bytes);
        }
    }

    /** Requests for {@code oldName} are redirected to {@code newName}, as the hub does for a renamed repo. */
    public void rename(String oldName, String newName) {
        renamed.put(oldName, newName);
    }

    public void gate(String repo) {
        gated.add(repo);
    }

    @Override
    public void close() {
        server.stop(0);
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Git's blob id, which the hub sends as the ETag of files not in LFS. */
    static String gitBlobSha1(byte[] bytes) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-1");
            d.update(("blob " + bytes.length + "\0").getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(d.digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static final Pattern RESOLVE = Pattern.compile("/(.+?/.+?)/resolve/([^/]+)/(.+)");
    private static final Pattern API = Pattern.compile("/api/models/(.+?/[^/]+)");
    private static final Pattern CDN = Pattern.compile("/cdn/([0-9a-f]{64})");

    private void handle(HttpExchange ex) throws IOException {
        requests.incrementAndGet();
        try (ex) {
            String path = ex.getRequestURI().getPath();
            Matcher m;
            if ((m = API.matcher(path)).matches()) {
                Map<String, RepoFile> files = repos.get(m.group(1));
                if (files == null || !authorized(ex, m.group(1))) {
                    error(ex, files == null ? 404 : 401, files == null ? "RepoNotFound" : "GatedRepo");
                    return;
                }
                StringBuilder json = new StringBuilder("{\"id\":\"" + m.group(1) + "\",\"sha\":\"" + COMMIT
                        + "\",\"siblings\":[");
                int i = 0;
                for (String name : files.keySet()) {
                    json.append(i++ > 0 ? "," : "").append("{\"rfilename\":\"").append(name).append("\"}");
                }
                send(ex, 200, json.append("]}").toString().getBytes(StandardCharsets.UTF_8));
            } else if ((m = RESOLVE.matcher(path)).matches()) {
                resolve(ex, m.group(1), m.group(2), m.group(3));
            } else if ((m = CDN.matcher(path)).matches() && cdn.containsKey(m.group(1))) {
                serveCdn(ex, cdn.get(m.group(1)));
            } else {
                error(ex, 404, null);
            }
        }
    }

    private boolean authorized(HttpExchange ex, String repo) {
        return !gated.contains(repo) || ("Bearer " + TOKEN).equals(ex.getRequestHeaders().getFirst("Authorization"));
    }

    private void resolve(HttpExchange ex, String repo, String revision, String name) throws IOException {
        Map<String, RepoFile> files = repos.get(repo);
        String newName = renamed.get(repo);
        if (newName != null) {
            ex.getResponseHeaders().set("Location", "/" + newName + "/resolve/" + revision + "/" + name);
            ex.sendResponseHeaders(307, -1);
            return;
        }
        if (files == null) {
            error(ex, 404, null);
            return;
        }
        if (!authorized(ex, repo)) {
            error(ex, 401, "GatedRepo");
            return;
        }
        if (!revision.equals("main") && !revision.equals(COMMIT)) {
            error(ex, 404, "RevisionNotFound");
            return;
        }
        RepoFile file = files.get(name);
        if (file == null) {
            error(ex, 404, "EntryNotFound");
            return;
        }
        var h = ex.getResponseHeaders();
        h.set("X-Repo-Commit", COMMIT);
        if (file.lfs()) {
            String sha = sha256(file.bytes());
            h.set("X-Linked-Etag", "\"" + sha + "\"");
            h.set("X-Linked-Size", Long.toString(file.bytes().length));
            h.set("ETag", "W/\"not-the-sha\"");
            h.set("Location", "/cdn/" + sha);
            ex.sendResponseHeaders(302, -1);
        } else {
            h.set("ETag", "\"" + gitBlobSha1(file.bytes()) + "\"");
            send(ex, 200, file.bytes());
        }
    }

    private void serveCdn(HttpExchange ex, byte[] bytes) throws IOException {
        byte[] served = bytes.clone();
        if (corrupt) {
            served[served.length / 2] ^= 1;
        }
        String range = ex.getRequestHeaders().getFirst("Range");
        int start = 0;
        if (range != null) {
            ranges.add(range);
            Matcher m = Pattern.compile("bytes=(\\d+)-").matcher(range);
            if (m.matches()) {
                start = Integer.parseInt(m.group(1));
            }
        }
        if (start >= served.length) {
            error(ex, 416, null);
            return;
        }
        if (start > 0) {
            ex.getResponseHeaders().set("Content-Range", "bytes " + start + "-" + (served.length - 1) + "/" + served.length);
        }
        int length = served.length - start;
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(start > 0 ? 206 : 200, head ? -1 : length);
        if (head) {
            return;
        }
        OutputStream body = ex.getResponseBody();
        long cut = dropAfter;
        if (cut > 0) {
            dropAfter = -1;
            body.write(served, start, (int) cut);
            body.flush();
            throw new IOException("connection dropped on purpose"); // closes it with bytes still owed
        }
        body.write(served, start, length);
    }

    private static void error(HttpExchange ex, int status, String code) throws IOException {
        if (code != null) {
            ex.getResponseHeaders().set("X-Error-Code", code);
        }
        send(ex, status, ("{\"error\":\"" + status + "\"}").getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.getResponseHeaders().set("Content-Type", "application/json");
        if (head) {
            ex.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
        }
        ex.sendResponseHeaders(status, head ? -1 : body.length);
        if (!head) {
            ex.getResponseBody().write(body);
        }
    }
}
