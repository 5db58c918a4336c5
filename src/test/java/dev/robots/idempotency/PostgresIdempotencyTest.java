package dev.robots.idempotency;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class PostgresIdempotencyTest extends IdempotencyContract {
    PostgresIdempotencyTest() {
        super("postgresql");
    }

    /**
     * A key whose first request is in progress (here: a row as an instance leaves it between its claim and its
     * commit) is a 409; once its lock has run out (that instance died), a retry takes the key over.
     */
    @Test
    void a_key_in_progress_is_a_409_until_its_lock_runs_out() throws Exception {
        String body = "{\"name\": \"in progress\"}";
        try (var c = first.database().connect()) {
            var insert = c.prepareStatement("INSERT INTO idempotency_keys "
                    + "(owner, idem_key, fingerprint, claim, locked_until, created_at) VALUES (?, ?, ?, ?, ?, ?)");
            insert.setString(1, sha256(RunningService.TOKEN));
            insert.setString(3, sha256("POST /v1/robots\n" + body));
            insert.setString(4, "elsewhere");
            insert.setTimestamp(6, Timestamp.from(Instant.now()));
            insert.setString(2, "busy");
            insert.setTimestamp(5, Timestamp.from(Instant.now().plusSeconds(3600)));
            insert.executeUpdate();
            insert.setString(2, "abandoned");
            insert.setTimestamp(5, Timestamp.from(Instant.now().minusSeconds(1)));
            insert.executeUpdate();
        }

        var busy = create(first, RunningService.TOKEN, "busy", body);
        assertThat(busy.statusCode()).isEqualTo(409);
        assertThat(busy.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(busy.body()).contains("Idempotency-Key 'busy' is still in progress");
        var takenOver = create(second, RunningService.TOKEN, "abandoned", body);
        assertThat(takenOver.statusCode()).isEqualTo(201);
        assertThat(takenOver.headers().firstValue("Idempotent-Replayed")).isEmpty();
        assertThat(robotsNamed("in progress")).isEqualTo(1);
    }

    private static String sha256(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(text.getBytes(StandardCharsets.UTF_8)));
    }
}
