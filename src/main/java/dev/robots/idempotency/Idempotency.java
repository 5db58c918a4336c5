package dev.robots.idempotency;

import dev.robots.config.Config;
import dev.robots.db.Dialect;
import dev.robots.db.OutcomeUnknown;
import dev.robots.db.Timestamps;
import dev.robots.db.WriteGate;
import dev.robots.http.Guards;
import dev.robots.http.Preconditions;
import dev.robots.http.Problem;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Safe retries of POSTs with an {@code Idempotency-Key} header (IETF httpapi draft "The Idempotency-Key HTTP Header
 * Field"). A key is scoped to its caller (the SHA-256 of the bearer token) and kept 24 hours in the database, so a
 * retry that reaches another instance is recognised:
 *
 * <ol>
 * <li>the key is inserted first, on its own, with a claim token: the primary key lets one request of all those with
 * the same key (on any instance) go on; the others find the row at once, without waiting on a lock;</li>
 * <li>the write and the storing of its answer are one transaction, the answer's UPDATE guarded by the claim, so an
 * effect never commits without its answer (a retry then replays it) and an answer never without its effect;</li>
 * <li>a failed write releases the key (deletes the row), so a retry runs it again; a row left in progress by an
 * instance that died is taken over once its lock ({@link #inProgressLock}) has run out.</li>
 * </ol>
 *
 * A retry with the same key and the same request (method, path, body and If-Match) gets the first answer again with
 * {@code Idempotent-Replayed: true}; with another request, a 422; while the first is in progress, a 409 with
 * {@code Retry-After: 1}.
 */
public final class Idempotency {
    private static final Logger LOG = Logger.getLogger(Idempotency.class.getName());
    public static final String HEADER = "Idempotency-Key";
    /** How long an answer is kept. */
    public static final Duration RETENTION = Duration.ofHours(24);
    /** How often each instance deletes answers past {@link #RETENTION} (a retry finds an expired one stale anyway). */
    public static final Duration PRUNE_INTERVAL = Duration.ofMinutes(10);
    /** How long one prune may take, waiting on locks included; the next one comes a {@link #PRUNE_INTERVAL} later. */
    private static final Duration PRUNE_TIMEOUT = Duration.ofSeconds(10);
    /**
     * How long a key in progress stays with its request, from the configuration ({@link #inProgressLock}). It was a
     * minute: a write refused 503 while the database was away could not release its key then, and its retry, told it
     * was safe to send again, got 409s for the rest of that minute once the database was back (black-box finding).
     */
    private final Duration inProgressLock;
    private static final int MAX_KEY_LENGTH = 255;
    private static final String UNIQUE_VIOLATION = "23505";
    /**
     * The time a key's release gets when the request's deadline is past or nearer: a release that cannot finish in
     * it (a lock held elsewhere) leaves the key to be taken over once {@link #inProgressLock} runs out.
     */
    private static final long RELEASE_GRACE_MS = 250;

    private final Pool pool;
    private final Dialect dialect;

    public Idempotency(Pool pool, Dialect dialect, Duration inProgressLock) {
        this.pool = pool;
        this.dialect = dialect;
        this.inProgressLock = inProgressLock;
    }

    /**
     * The longest a request can hold its key: its deadline (REQUEST_TIMEOUT_MS), as long again for a commit in
     * flight (then a 504), and DB_SOCKET_TIMEOUT_MS, past which PostgreSQL ends a transaction its client left idle
     * (Database), so that no commit of it can come later. Past that the request is over, whatever its instance
     * became; a takeover is safe even sooner, since a write stores its answer only under its own claim.
     */
    public static Duration inProgressLock(Config config) {
        return config.requestTimeout().multipliedBy(2).plus(config.dbSocketTimeout());
    }

    /**
     * Runs {@code write} in one transaction and answers its reply; under an {@code Idempotency-Key}, at most once per
     * key, caller and 24 hours, replaying the first reply to a retry.
     */
    public Future<Reply> execute(RoutingContext ctx, Function<SqlConnection, Future<Reply>> write) {
        String key = key(ctx);
        WriteGate gate = Guards.writeGate(ctx);
        if (key == null) {
            return dialect.inTransaction(pool, gate, write);
        }
        var attempt = new Attempt(owner(ctx), key, fingerprint(ctx), UUID.randomUUID().toString(), gate);
        return claim(attempt, 3).compose(claimed -> claimed != null
                ? Future.succeededFuture(claimed)
                : run(attempt, gate, write));
    }

    /**
     * For the writes that take no key ({@code PATCH} and {@code DELETE} of a robot): one sent is a 400 that says so,
     * before anything is read or written. Ignored, as it was, a client that sent it for a safe retry believed it had
     * one, where a 504 tells it to retry with the same key. These writes need none: sent again, a rename to the same
     * name changes nothing and a second delete answers 404; If-Match makes either conditional on what the client saw.
     */
    public static void refuse(RoutingContext ctx) {
        if (ctx.request().headers().contains(HEADER)) {
            throw Problem.badRequest(("%s takes no Idempotency-Key (only POST /v1/robots and the repair POSTs do): "
                    + "it is safe to send again as it is (a rename to the same name changes nothing, a second DELETE "
                    + "answers 404); send it without the key, with If-Match to make it conditional.")
                    .formatted(ctx.request().method()));
        }
    }

    /** The key of a request, or null; a 400 problem when it is not 1-255 visible ASCII characters. */
    static String key(RoutingContext ctx) {
        var values = ctx.request().headers().getAll(HEADER);
        if (values.isEmpty()) {
            return null;
        }
        String key = values.getFirst();
        boolean visible = key.chars().allMatch(c -> c >= 0x21 && c <= 0x7E);
        if (values.size() > 1 || key.isEmpty() || key.length() > MAX_KEY_LENGTH || !visible) {
            throw Problem.badRequest("Idempotency-Key must be one value of 1 to %d visible ASCII characters."
                    .formatted(MAX_KEY_LENGTH));
        }
        return key;
    }

    /**
     * Inserts the key; null when this request holds it now. Otherwise the stored reply (a replay), or a failed
     * future with the 409 or 422 problem.
     */
    private Future<Reply> claim(Attempt attempt, int triesLeft) {
        Instant now = Instant.now();
        // Bounded by the deadline: the INSERT waits on the row of the key while another session's transaction that
        // changed it is open (a client whose COMMIT was lost holds it "idle in transaction").
        return dialect.withinDeadline(pool, attempt.gate(), 0, conn -> SqlTemplate.forUpdate(conn, "INSERT INTO "
                        + "idempotency_keys (owner, idem_key, fingerprint, claim, locked_until, created_at) "
                        + "VALUES (#{owner}, #{key}, #{fingerprint}, #{claim}, #{locked_until}, #{now})")
                        .execute(attempt.params(now, inProgressLock)))
                .map(inserted -> (Reply) null)
                .recover(failure -> {
                    if (!isUniqueViolation(failure) || triesLeft == 0) {
                        return Future.failedFuture(failure);
                    }
                    return existing(attempt, now, triesLeft);
                });
    }

    private Future<Reply> existing(Attempt attempt, Instant now, int triesLeft) {
        return dialect.withinDeadline(pool, attempt.gate(), 0, conn -> SqlTemplate.forQuery(conn, "SELECT "
                        + "fingerprint, claim, locked_until, created_at, status, location, etag, body "
                        + "FROM idempotency_keys WHERE owner = #{owner} AND idem_key = #{key}")
                        .execute(Map.of("owner", attempt.owner(), "key", attempt.key())))
                .compose(rows -> {
                    if (rows.size() == 0) {
                        return claim(attempt, triesLeft - 1); // released meanwhile: the key is free again
                    }
                    Row row = rows.iterator().next();
                    Integer status = row.getInteger("status");
                    boolean expired = Timestamps.instant(row.getValue("created_at")).isBefore(now.minus(RETENTION));
                    boolean abandoned = status == null && Timestamps.instant(row.getValue("locked_until")).isBefore(now);
                    if (expired || abandoned) {
                        return takeOver(attempt, row.getString("claim"), now, triesLeft);
                    }
                    if (!row.getString("fingerprint").equals(attempt.fingerprint())) {
                        return Future.failedFuture(new Problem(422, ("Idempotency-Key '%s' was used for another request "
                                + "(another method, path, body or If-Match); use a new key for a new request.")
                                .formatted(attempt.key())));
                    }
                    if (status == null) {
                        return Future.failedFuture(new Problem(409, ("A request with Idempotency-Key '%s' is still in "
                                + "progress; retry shortly.").formatted(attempt.key()), Map.of("Retry-After", "1")));
                    }
                    return Future.succeededFuture(new Reply(status, Buffer.buffer(row.getString("body")),
                            row.getString("location"), row.getString("etag"), true));
                });
    }

    /** Takes over a key whose answer expired or whose request was abandoned; null when this request holds it now. */
    private Future<Reply> takeOver(Attempt attempt, String previousClaim, Instant now, int triesLeft) {
        var params = attempt.params(now, inProgressLock);
        params.put("previous", previousClaim);
        return dialect.withinDeadline(pool, attempt.gate(), 0, conn -> SqlTemplate.forUpdate(conn, "UPDATE "
                        + "idempotency_keys SET fingerprint = #{fingerprint}, claim = #{claim}, "
                        + "locked_until = #{locked_until}, created_at = #{now}, status = NULL, location = NULL, "
                        + "etag = NULL, body = NULL WHERE owner = #{owner} AND idem_key = #{key} AND claim = #{previous}")
                        .execute(params))
                .compose(updated -> updated.rowCount() == 1
                        ? Future.<Reply>succeededFuture(null)
                        : claim(attempt, triesLeft - 1));
    }

    /**
     * The write and its stored answer in one transaction; the key released if the write fails, and kept if its
     * outcome is unknown: then a retry with the key finds the stored answer if the write committed, or takes the key
     * over once its lock runs out if it did not.
     */
    private Future<Reply> run(Attempt attempt, WriteGate gate, Function<SqlConnection, Future<Reply>> write) {
        return dialect.inTransaction(pool, gate, conn -> write.apply(conn).compose(reply -> {
                    var params = new HashMap<String, Object>();
                    params.put("owner", attempt.owner());
                    params.put("key", attempt.key());
                    params.put("claim", attempt.claim());
                    params.put("status", reply.status());
                    params.put("location", reply.location());
                    params.put("etag", reply.etag());
                    params.put("body", reply.body().toString(StandardCharsets.UTF_8));
                    return SqlTemplate.forUpdate(conn, "UPDATE idempotency_keys SET status = #{status}, "
                                    + "location = #{location}, etag = #{etag}, body = #{body} "
                                    + "WHERE owner = #{owner} AND idem_key = #{key} AND claim = #{claim}")
                            .execute(params)
                            .compose(stored -> stored.rowCount() == 1
                                    ? Future.succeededFuture(reply)
                                    // Our lock ran out and another request took the key over: roll back.
                                    : Future.failedFuture(new Problem(409, ("A request with Idempotency-Key '%s' is "
                                            + "in progress elsewhere; retry shortly.").formatted(attempt.key()),
                                            Map.of("Retry-After", "1"))));
                }))
                .recover(failure -> failure instanceof OutcomeUnknown
                        ? Future.failedFuture(failure)
                        : release(attempt).transform(released -> Future.failedFuture(failure)));
    }

    /**
     * Deletes the key this request holds. It runs after a failed write, often because the deadline came: so it gets
     * the time left, and at least {@link #RELEASE_GRACE_MS}, the answer having gone out already.
     */
    private Future<Void> release(Attempt attempt) {
        return dialect.withinDeadline(pool, attempt.gate(), RELEASE_GRACE_MS, conn -> SqlTemplate.forUpdate(conn,
                        "DELETE FROM idempotency_keys WHERE owner = #{owner} AND idem_key = #{key} AND claim = #{claim}")
                        .execute(Map.of("owner", attempt.owner(), "key", attempt.key(), "claim", attempt.claim())))
                .<Void>mapEmpty()
                .onFailure(e -> LOG.log(Level.WARNING, "Could not release Idempotency-Key after a failed write; it is "
                        + "taken over once its lock runs out", e));
    }

    /**
     * Deletes answers older than {@link #RETENTION}; how many. Within {@link #PRUNE_TIMEOUT}: a row locked elsewhere
     * (a session left idle in a transaction) would otherwise hold a connection of {@code pool}, the count flusher's,
     * for as long as that session lives.
     */
    public static Future<Integer> prune(Pool pool, Dialect dialect) {
        return dialect.withinDeadline(pool, WriteGate.within(PRUNE_TIMEOUT.toMillis()), 0, conn -> SqlTemplate
                        .forUpdate(conn, "DELETE FROM idempotency_keys WHERE created_at < #{cutoff}")
                        .execute(Map.of("cutoff", OffsetDateTime.ofInstant(Instant.now().minus(RETENTION),
                                ZoneOffset.UTC))))
                .map(deleted -> deleted.rowCount());
    }

    /** The caller's identity: the SHA-256 of its bearer token (the route's auth has accepted it). */
    static String owner(RoutingContext ctx) {
        String authorization = ctx.request().getHeader("Authorization");
        String token = authorization == null || authorization.length() < 7 ? "" : authorization.substring(7).strip();
        return sha256(token.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * What makes two requests the same: method, path, body and precondition. A retry under another If-Match (or none)
     * asks for the write on another condition, so it is another request, a 422: replayed, an If-Match that fails now
     * got the first request's 202. The If-Match is compared as read (its strong tags as a set, or {@code *}; a weak tag
     * never matches), so {@code "1", "2"} and {@code "2","1"} are one condition. A request without one hashes exactly
     * as before preconditions counted, so keys stored then still replay.
     */
    static String fingerprint(RoutingContext ctx) {
        var body = ctx.body() == null || ctx.body().buffer() == null ? Buffer.buffer() : ctx.body().buffer();
        var request = Buffer.buffer(ctx.request().method().name()).appendString(" ")
                .appendString(ctx.request().path()).appendString("\n").appendBuffer(body);
        String condition = condition(ctx);
        if (condition != null) {
            request.appendString("\nIf-Match: ").appendString(condition);
        }
        return sha256(request.getBytes());
    }

    /** The request's If-Match as the route reads it, or null without one; as sent when unreadable (the route's 400). */
    private static String condition(RoutingContext ctx) {
        if (ctx.request().headers().getAll("If-Match").isEmpty()) {
            return null;
        }
        try {
            Preconditions ifMatch = Preconditions.ifMatch(ctx);
            return ifMatch.any() ? "*" : String.join(",", new TreeSet<>(ifMatch.tags()));
        } catch (Problem unreadable) {
            return "unreadable " + String.join(",", ctx.request().headers().getAll("If-Match"));
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static boolean isUniqueViolation(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof PgException pg && UNIQUE_VIOLATION.equals(pg.getSqlState())) {
                return true;
            }
            if (t instanceof SQLException sql && UNIQUE_VIOLATION.equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }


    private record Attempt(String owner, String key, String fingerprint, String claim, WriteGate gate) {
        Map<String, Object> params(Instant now, Duration lock) {
            var params = new HashMap<String, Object>();
            params.put("owner", owner);
            params.put("key", key);
            params.put("fingerprint", fingerprint);
            params.put("claim", claim);
            params.put("now", OffsetDateTime.ofInstant(now, ZoneOffset.UTC));
            params.put("locked_until", OffsetDateTime.ofInstant(now.plus(lock), ZoneOffset.UTC));
            return params;
        }
    }
}
