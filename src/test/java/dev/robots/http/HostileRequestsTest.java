package dev.robots.http;

import static dev.robots.http.Raw.AUTH;
import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile and malformed requests over real sockets: none gets a 500, a stack trace or a hang, and the service answers
 * a normal request right after each.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileRequestsTest {
    private static final Pattern STATUS = Pattern.compile("HTTP/1\\.[01] (\\d{3}) .*");
    @RegisterExtension
    final RunningService service = RunningService.onFresh("h2", Map.of("REQUEST_TIMEOUT_MS", "2000"));

    @BeforeAll
    void createTarget() {
        service.create("target");
    }

    /** A request as raw bytes: written at once, or slowly in pieces. */
    record Hostile(byte[] bytes, int pieceSize, long pauseMillis) {
        static Named<Hostile> of(String name, String raw) {
            return Named.of(name, new Hostile(raw.getBytes(StandardCharsets.ISO_8859_1), Integer.MAX_VALUE, 0));
        }

        static Named<Hostile> bytes(String name, byte[] raw) {
            return Named.of(name, new Hostile(raw, Integer.MAX_VALUE, 0));
        }

        static Named<Hostile> slow(String name, String raw, int pieceSize, long pauseMillis) {
            return Named.of(name, new Hostile(raw.getBytes(StandardCharsets.ISO_8859_1), pieceSize, pauseMillis));
        }
    }

    private static String post(String path, String contentType, String body) {
        return "POST " + path + " HTTP/1.1\r\nHost: x\r\n" + AUTH + "Content-Type: " + contentType
                + "\r\nContent-Length: " + body.getBytes(StandardCharsets.ISO_8859_1).length + "\r\n\r\n" + body;
    }

    private static String json(String body) {
        return post("/v1/robots", "application/json", body);
    }

    private static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
    }

    static Stream<Named<Hostile>> requests() {
        var cases = new ArrayList<Named<Hostile>>();
        // bodies
        cases.add(Hostile.of("unterminated object", json("{\"name\": \"R2\"")));
        cases.add(Hostile.of("array body", json("[1, 2, 3]")));
        cases.add(Hostile.of("number body", json("12345678901234567890123456789")));
        cases.add(Hostile.of("null body", json("null")));
        cases.add(Hostile.of("name is an array", json("{\"name\": [\"R2\"]}")));
        cases.add(Hostile.of("name is huge number", json("{\"name\": 1e999999}")));
        cases.add(Hostile.of("duplicate keys", json("{\"name\": \"a\", \"name\": \"b\"}")));
        cases.add(Hostile.of("unknown field", json("{\"name\": \"a\", \"admin\": true}")));
        cases.add(Hostile.of("prototype pollution key", json("{\"__proto__\": {\"x\": 1}, \"name\": \"a\"}")));
        cases.add(Hostile.of("deep nesting", json("{\"name\": " + "[".repeat(5000) + "]".repeat(5000) + "}")));
        cases.add(Hostile.of("deep nesting as the body", json("[".repeat(10000))));
        cases.add(Hostile.of("NaN literal", json("{\"name\": NaN}")));
        cases.add(Hostile.of("single quotes", json("{'name': 'R2'}")));
        cases.add(Hostile.of("comments", json("/* x */ {\"name\": \"R2\"}")));
        cases.add(Hostile.of("trailing garbage", json("{\"name\": \"R2\"} <script>")));
        cases.add(Hostile.of("NUL in name", json("{\"name\": \"R2\\u0000D2\"}")));
        cases.add(Hostile.of("newline in name", json("{\"name\": \"R2\\nD2\"}")));
        cases.add(Hostile.of("lone surrogate", json("{\"name\": \"\\ud800\"}")));
        cases.add(Hostile.of("name of 10000 chars", json("{\"name\": \"" + "x".repeat(10_000) + "\"}")));
        cases.add(Hostile.of("body over the limit", json("{\"name\": \"" + "x".repeat(40_000) + "\"}")));
        cases.add(Hostile.bytes("invalid UTF-8", concat(("POST /v1/robots HTTP/1.1\r\nHost: x\r\n" + AUTH
                + "Content-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"name\": \"").getBytes(
                        StandardCharsets.ISO_8859_1), new byte[] {(byte) 0xC3, (byte) 0x28, '"', '}'})));
        cases.add(Hostile.bytes("UTF-16 body", concat(("POST /v1/robots HTTP/1.1\r\nHost: x\r\n" + AUTH
                + "Content-Type: application/json\r\nContent-Length: 34\r\n\r\n").getBytes(
                        StandardCharsets.ISO_8859_1), "{\"name\": \"R2D2\"}".getBytes(StandardCharsets.UTF_16))));
        cases.add(Hostile.of("form where JSON is expected", post("/v1/robots", "application/x-www-form-urlencoded",
                "name=R2")));
        cases.add(Hostile.of("XML", post("/v1/robots", "application/xml", "<robot name=\"R2\"/>")));
        cases.add(Hostile.of("multipart", post("/v1/robots", "multipart/form-data; boundary=x",
                "--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nR2\r\n--x--\r\n")));
        cases.add(Hostile.of("form robot_id overflow", post("/v1/robots/repair", "application/x-www-form-urlencoded",
                "robot_id=99999999999999999999999")));
        cases.add(Hostile.of("form with bad percent encoding", post("/v1/robots/repair",
                "application/x-www-form-urlencoded", "robot_id=%ZZ")));
        // headers
        cases.add(Hostile.of("Content-Length with Transfer-Encoding", "POST /v1/robots HTTP/1.1\r\nHost: x\r\n" + AUTH
                + "Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "0\r\n\r\nGET /v1/robots/1 HTTP/1.1\r\nHost: x\r\n\r\n"));
        cases.add(Hostile.of("two different Content-Lengths", "POST /v1/robots HTTP/1.1\r\nHost: x\r\n" + AUTH
                + "Content-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 16\r\n\r\n{\"name\": \"R2\"}"));
        cases.add(Hostile.of("negative Content-Length", "POST /v1/robots HTTP/1.1\r\nHost: x\r\n" + AUTH
                + "Content-Type: application/json\r\nContent-Length: -1\r\n\r\n{}"));
        cases.add(Hostile.of("non-numeric Content-Length", "POST /v1/robots HTTP/1.1\r\nHost: x\r\n" + AUTH
                + "Content-Type: application/json\r\nContent-Length: abc\r\n\r\n{}"));
        cases.add(Hostile.of("huge Content-Length, small body", "POST /v1/robots HTTP/1.1\r\nHost: x\r\n" + AUTH
                + "Content-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{}"));
        cases.add(Hostile.of("headers over 8 KiB", "GET /v1/robots/1 HTTP/1.1\r\nHost: x\r\nX-Big: "
                + "a".repeat(10_000) + "\r\n\r\n"));
        cases.add(Hostile.of("URI over 4 KiB", get("/v1/robots/" + "1".repeat(5_000))));
        cases.add(Hostile.of("header without a colon", "GET /v1/robots/1 HTTP/1.1\r\nHost: x\r\nBroken header\r\n\r\n"));
        cases.add(Hostile.of("control character in a header", "GET /v1/robots/1 HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b\r\n\r\n"));
        cases.add(Hostile.of("garbage Authorization", "DELETE /v1/robots/1 HTTP/1.1\r\nHost: x\r\nAuthorization: "
                + "Bearer " + "\u00ff".repeat(100) + "\r\n\r\n"));
        cases.add(Hostile.of("bad chunk size", "POST /v1/robots HTTP/1.1\r\nHost: x\r\n" + AUTH
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n{}\r\n0\r\n\r\n"));
        cases.add(Hostile.of("chunked body over the limit", "POST /v1/robots HTTP/1.1\r\nHost: x\r\n" + AUTH
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                + ("4000\r\n" + "x".repeat(0x4000) + "\r\n").repeat(3) + "0\r\n\r\n"));
        cases.add(Hostile.of("gzip Content-Encoding", "POST /v1/robots HTTP/1.1\r\nHost: x\r\n" + AUTH
                + "Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\n\u001f\u008b\u0008\u0000"));
        cases.add(Hostile.of("Expect 100-continue over the limit", "POST /v1/robots HTTP/1.1\r\nHost: x\r\n" + AUTH
                + "Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 10000000\r\n\r\n"));
        // paths and queries
        cases.add(Hostile.of("NUL in the path", get("/v1/robots/%00")));
        cases.add(Hostile.of("path traversal", get("/v1/robots/..%2F..%2Fetc%2Fpasswd")));
        cases.add(Hostile.of("dot segments", get("/v1/robots/1/../../../etc/passwd")));
        cases.add(Hostile.of("bad percent encoding", get("/v1/robots/%ZZ")));
        cases.add(Hostile.of("double slashes", get("//v1//robots//1")));
        cases.add(Hostile.of("matrix parameter", get("/v1/robots/1;jsessionid=x")));
        cases.add(Hostile.of("full-width digit", "GET /v1/robots/\u00ef\u00bc\u0091 HTTP/1.1\r\nHost: x\r\n\r\n"));
        cases.add(Hostile.of("invalid UTF-8 in the query", get("/v1/robots?limit=%FF%FE")));
        // The list's parser threw on these (a 500); the create never read its query, and created.
        cases.add(Hostile.of("bad percent encoding in the list's query", get("/v1/robots?q=%ZZ")));
        cases.add(Hostile.of("a lone % in the list's query", get("/v1/robots?%")));
        cases.add(Hostile.of("bad percent encoding in a create's query",
                post("/v1/robots?x=%ZZ", "application/json", "{\"name\": \"escaped\"}")));
        cases.add(Hostile.of("SQL in the id", get("/v1/robots/1%20OR%201=1")));
        cases.add(Hostile.of("SQL in after", get("/v1/robots?after=0;DROP%20TABLE%20robots")));
        cases.add(Hostile.of("absolute URI", "GET http://evil.example/v1/robots/1 HTTP/1.1\r\nHost: x\r\n\r\n"));
        cases.add(Hostile.of("asterisk target", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"));
        // methods and protocol
        cases.add(Hostile.of("TRACE", "TRACE /v1/robots/1 HTTP/1.1\r\nHost: x\r\n\r\n"));
        cases.add(Hostile.of("CONNECT", "CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n"));
        cases.add(Hostile.of("unknown method", "FROBNICATE /v1/robots/1 HTTP/1.1\r\nHost: x\r\n\r\n"));
        cases.add(Hostile.of("lower-case method", "get /v1/robots/1 HTTP/1.1\r\nHost: x\r\n\r\n"));
        cases.add(Hostile.of("HEAD", "HEAD /v1/robots/1 HTTP/1.1\r\nHost: x\r\n\r\n"));
        cases.add(Hostile.of("HTTP/1.0 without Host", "GET /v1/robots/1 HTTP/1.0\r\n\r\n"));
        cases.add(Hostile.of("HTTP/9.9", "GET /v1/robots/1 HTTP/9.9\r\nHost: x\r\n\r\n"));
        cases.add(Hostile.of("HTTP/2 preface on HTTP/1", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
        cases.add(Hostile.of("no version", "GET /v1/robots/1\r\n\r\n"));
        cases.add(Hostile.of("binary garbage", "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u01fc\u0003\u0003garbage\r\n\r\n"));
        cases.add(Hostile.of("empty lines only", "\r\n\r\n\r\n"));
        // slow
        cases.add(Hostile.slow("body sent slowly", json("{\"name\": \"slow\"}"), 4, 100));
        cases.add(Hostile.slow("endless chunked body, slowly", "POST /v1/robots HTTP/1.1\r\nHost: x\r\n" + AUTH
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "1\r\nx\r\n".repeat(200), 6, 50));
        return cases.stream();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = new byte[a.length + b.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("requests")
    void is_refused_cleanly_and_the_service_keeps_answering(Hostile hostile) throws Exception {
        String answer = exchange(hostile);

        List<Integer> statuses = answer.lines().map(STATUS::matcher).filter(m -> m.matches())
                .map(m -> Integer.parseInt(m.group(1))).toList();
        if (!new String(hostile.bytes(), StandardCharsets.ISO_8859_1).isBlank()) {
            // A dropped connection is no answer: the client cannot tell a refusal from a crash.
            assertThat(statuses).as("a status before the connection closed; got: " + answer).isNotEmpty();
        }
        assertThat(statuses).as(answer).allMatch(status -> status < 500 || status == 503 || status == 505
                || status == 501);
        assertThat(answer).doesNotContain("Exception").doesNotContain("\tat ").doesNotContain("dev.robots");
        assertThat(service.get("/healthz").statusCode()).isEqualTo(200);
        assertThat(service.get("/v1/robots/1").statusCode()).isEqualTo(200);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("requests")
    void none_changes_the_database_but_the_slow_valid_one(Hostile hostile) throws Exception {
        var before = robotsStored();
        exchange(hostile);
        var after = robotsStored();
        if (new String(hostile.bytes(), StandardCharsets.ISO_8859_1).contains("\"name\": \"slow\"")) {
            assertThat(after).containsAllEntriesOf(before).hasSize(before.size() + 1).containsValue("slow");
        } else {
            // Checked in the database, not in the answer: a write that happened without a 201 counts too.
            assertThat(after).isEqualTo(before);
        }
    }

    /** Every robot's id and name, as the database holds them. */
    private java.util.SortedMap<Long, String> robotsStored() throws java.sql.SQLException {
        var robots = new java.util.TreeMap<Long, String>();
        try (var c = service.database().connect();
                var rows = c.createStatement().executeQuery("SELECT id, name FROM robots")) {
            while (rows.next()) {
                robots.put(rows.getLong(1), rows.getString(2));
            }
        }
        return robots;
    }

    /** Sends the request and reads what comes back until the server closes or is quiet for 5 s; a hang fails. */
    private String exchange(Hostile hostile) throws IOException {
        try (var socket = new Socket("127.0.0.1", service.app().port())) {
            socket.setSoTimeout(5_000);
            OutputStream out = socket.getOutputStream();
            try {
                for (int from = 0; from < hostile.bytes().length; from += hostile.pieceSize()) {
                    out.write(hostile.bytes(), from, Math.min(hostile.pieceSize(), hostile.bytes().length - from));
                    out.flush();
                    if (hostile.pauseMillis() > 0) {
                        Thread.sleep(hostile.pauseMillis());
                    }
                }
            } catch (IOException closedByServer) {
                // The server may refuse and close before the whole request is written: that is an answer too.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            boolean blank = new String(hostile.bytes(), StandardCharsets.ISO_8859_1).isBlank();
            return readAll(socket.getInputStream(), blank);
        }
    }

    private static String readAll(InputStream in, boolean blank) throws IOException {
        var answer = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        try {
            for (int n; (n = in.read(buffer)) > 0; ) {
                answer.write(buffer, 0, n);
                if (answer.toString(StandardCharsets.ISO_8859_1).contains("\r\n\r\n") && in.available() == 0) {
                    // One answer in; wait briefly for more (pipelined requests), then stop reading.
                    Thread.sleep(200);
                    if (in.available() == 0) {
                        break;
                    }
                }
            }
        } catch (SocketTimeoutException e) {
            // Quiet for 5 s. Only a request with nothing in it (blank lines, which HTTP says to skip) may get no
            // answer; anything else is a hang.
            assertThat(answer.size() > 0 || blank).as("the server neither answered nor closed within 5 s").isTrue();
        } catch (IOException e) {
            // reset by the server after refusing: fine
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return answer.toString(StandardCharsets.ISO_8859_1);
    }
}
