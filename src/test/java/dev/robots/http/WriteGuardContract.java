package dev.robots.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * No write without a valid token, whatever the spelling of its target, its method, its token headers or its protocol:
 * every such request is refused (401, or 400 for a target or headers that are not canonical, never a 2xx nor a 5xx),
 * and the database holds afterwards exactly what it held before. Run on each database by a subclass.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class WriteGuardContract {
    private static final String BODY = "{\"name\":\"intruder\"}";
    private static final String FORM = "robot_id=1";

    @RegisterExtension
    final RunningService service;
    private int port;
    private long target;
    /** The highest id the database has handed out. */
    private long lastId;

    WriteGuardContract(String kind) {
        service = RunningService.onFresh(kind);
    }

    @BeforeAll
    void createTarget() {
        port = service.uri("/").getPort();
        target = service.create("target");
        lastId = target;
    }

    private record Write(String method, String path, String contentType, String body) {}

    private List<Write> writes() {
        return List.of(
                new Write("POST", "/v1/robots", "application/json", BODY),
                new Write("PATCH", "/v1/robots/" + target, "application/json", BODY),
                new Write("DELETE", "/v1/robots/" + target, null, ""),
                new Write("POST", "/v1/robots/" + target + "/repair", null, ""),
                new Write("POST", "/v1/robots/repair", "application/x-www-form-urlencoded", FORM),
                new Write("PUT", "/v1/robots/" + target, "application/json", BODY));
    }

    /** Ways to send no valid token; the last two carry the valid one beside another. */
    private static final List<String> CREDENTIALS = List.of(
            "",
            "Authorization: Bearer wrong-token\r\n",
            "Authorization: Bearer \r\n",
            "Authorization: Basic dGVzdC10b2tlbjo=\r\n",
            "Authorization: " + RunningService.TOKEN + "\r\n",
            "Authorization: Bearer wrong-token\r\nAuthorization: Bearer " + RunningService.TOKEN + "\r\n",
            "Authorization: Bearer " + RunningService.TOKEN + "\r\nAuthorization: Bearer wrong-token\r\n");

    private static String request(String method, String target, String version, String credentials, Write write) {
        var head = new StringBuilder(method).append(' ').append(target).append(' ').append(version).append("\r\n")
                .append("Host: x\r\nConnection: close\r\n").append(credentials);
        if (write.contentType() != null) {
            head.append("Content-Type: ").append(write.contentType()).append("\r\n");
        }
        return head.append("Content-Length: ").append(write.body().length()).append("\r\n\r\n").append(write.body())
                .toString();
    }

    @Test
    void no_spelling_of_a_write_without_a_valid_token_changes_the_database() throws Exception {
        String before = snapshot();
        var failures = new ArrayList<String>();
        int sent = 0;
        for (Write write : writes()) {
            for (String spelling : Spellings.of(write.path())) {
                for (String credentials : CREDENTIALS) {
                    for (String version : List.of("HTTP/1.1", "HTTP/1.0")) {
                        var answer = Raw.exchange(port, request(write.method(), spelling, version, credentials, write));
                        sent++;
                        var statuses = answer.statuses();
                        if (statuses.isEmpty() || statuses.stream().anyMatch(s -> s < 400 || s >= 500)) {
                            failures.add("%s %s %s [%s] -> %s".formatted(write.method(), spelling, version,
                                    credentials.strip(), answer.text()));
                        }
                    }
                }
            }
        }
        service.awaitFlushed();
        assertThat(failures).as("of %d requests", sent).isEmpty();
        assertThat(snapshot()).isEqualTo(before);
        assertNoIdWasTaken();
    }

    @Test
    void h2c_is_not_spoken_so_no_write_gets_in_over_it_either() throws Exception {
        String before = snapshot();
        // Prior knowledge: the HTTP/2 preface, then a HEADERS frame would follow; the server answers the preface.
        var preface = Raw.exchange(port, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        assertThat(preface.status()).isEqualTo(505);
        assertThat(preface.closed()).isTrue();

        // Upgrade: the client asks for h2c on its first request; the server answers in HTTP/1.1, and refuses.
        var client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
                .connectTimeout(Duration.ofSeconds(5)).build();
        for (Write write : writes()) {
            for (String spelling : List.of(write.path(), "/" + write.path(), write.path().replace("robots", "%72obots"))) {
                var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + spelling))
                        .method(write.method(), HttpRequest.BodyPublishers.ofString(write.body()))
                        .timeout(Duration.ofSeconds(10));
                if (write.contentType() != null) {
                    request.header("Content-Type", write.contentType());
                }
                HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
                assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
                assertThat(response.statusCode()).as(write.method() + " " + spelling).isBetween(400, 499);
            }
        }
        service.awaitFlushed();
        assertThat(snapshot()).isEqualTo(before);
        assertNoIdWasTaken();
    }

    /**
     * Every robot, as the database holds it; the list reads the database (never the read cache), and counts nothing.
     * {@code count} moves with reads, which these tests do not make.
     */
    private String snapshot() {
        var robots = new JsonArray();
        String next = "/v1/robots?limit=500";
        while (next != null) {
            var page = new JsonObject(service.get(next).body());
            page.getJsonArray("robots").forEach(robots::add);
            next = page.getString("next");
        }
        return robots.encode();
    }

    /** A create now takes the id after the last: no refused create reached the database and took one. */
    private void assertNoIdWasTaken() {
        long created = service.create("canary");
        assertThat(created).isEqualTo(lastId + 1);
        lastId = created;
        assertThat(service.sendJson("DELETE", "/v1/robots/" + created, null).statusCode()).isEqualTo(204);
    }
}
