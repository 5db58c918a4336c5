package dev.robots.http;

import dev.robots.config.Config;
import dev.robots.db.Database;
import dev.robots.db.OutcomeUnknown;
import dev.robots.db.WriteGate;
import dev.robots.observability.Rejection;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.multipart.HttpPostRequestDecoder;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one place where failures become answers: every error the service gives is {@code application/problem+json}
 * (RFC 9457), never a stack trace. Client mistakes are {@link Problem}s; a database that cannot be reached is a 503
 * with {@code Retry-After}; anything else is a bug, logged once with its request id and answered with a 500.
 */
public final class Problems {
    private static final Logger LOG = Logger.getLogger(Problems.class.getName());
    public static final String CONTENT_TYPE = "application/problem+json";
    public static final String RETRY_AFTER_SECONDS = "2";
    private static final long UNAVAILABLE_LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final AtomicLong lastUnavailableLog =
            new AtomicLong(System.nanoTime() - UNAVAILABLE_LOG_INTERVAL_NANOS);
    private static final AtomicLong unavailableUnlogged = new AtomicLong();

    private Problems() {
    }

    /** Installs the failure handling on {@code router}: route failures, unknown routes, and Vert.x's own statuses. */
    public static void install(Router router) {
        router.route().failureHandler(Problems::handle);
        router.errorHandler(404, Problems::nothingAt);
        // Vert.x Web's own 405: a route matched the path but not the method, and no route took the method. Every path
        // the API serves has its own 405 route (methodNotAllowed) behind its real ones, so this is only a path that
        // matched a prefix route with other methods (the robot read's, GET and HEAD on /v1/robots/*) and that no
        // route serves: /v1/robots/1/x, whose GET is a 404. It was a bare 405, no body, "allow: HEAD,GET".
        router.errorHandler(405, ctx -> {
            ctx.response().headers().remove("Allow"); // the prefix route's methods, not this path's
            nothingAt(ctx);
        });
        router.errorHandler(500, Problems::handle);
        // Vert.x Web's own 400, for a path it cannot decode (/v1/robots/%ZZ), before any route runs.
        router.errorHandler(400, ctx -> send(ctx, Problem.badRequest(
                "The request could not be read: its path or parameters are not validly encoded.")));
    }

    /** A route that answers 405 with the methods the path does accept; add it after the path's real routes. */
    public static void methodNotAllowed(Router router, String path, String allow) {
        router.route(path).handler(ctx -> send(ctx, new Problem(405,
                "%s does not accept %s; it accepts %s.".formatted(ctx.request().path(), ctx.request().method(), allow),
                Map.of("Allow", allow))));
    }

    private static void handle(RoutingContext ctx) {
        if (ctx.failure() instanceof HttpClosedException) {
            // The client closed the connection before its request was all read: no one to answer, and no bug of
            // ours; logged as one, every client that hung up mid-body wrote a stack trace. A reset is a close too
            // (Framing.HalfClosed).
            LOG.fine(() -> "%s %s: the client closed the connection".formatted(ctx.request().method(),
                    ctx.request().path()));
            return;
        }
        send(ctx, toProblem(ctx));
    }

    private static Problem toProblem(RoutingContext ctx) {
        Throwable failure = ctx.failure();
        if (failure instanceof Problem problem) {
            return problem;
        }
        if (failure instanceof HttpPostRequestDecoder.ErrorDataDecoderException) {
            // Netty's message names its decoder's internals, not the caller's mistake.
            return Problem.badRequest("The form could not be decoded: send robot_id=ID, "
                    + "application/x-www-form-urlencoded, percent-encoded as UTF-8.");
        }
        if (isFormTooLarge(failure)) {
            // The form decoder's limits (fields, field length): a form in good framing, not a malformed body.
            return Problem.badRequest("The form has too many fields, or one too long: send robot_id=ID and nothing "
                    + "else.");
        }
        if (!ctx.request().isEnded() && (failure instanceof NumberFormatException
                || failure instanceof DecoderException || failure instanceof TooLongFrameException)) {
            // Netty's HTTP decoder failed on the body as it came in (a malformed chunk size, say): the client's doing.
            return Problem.badRequest("The request body could not be read: its framing (a chunk size, say) is malformed.");
        }
        if (failure instanceof OutcomeUnknown) {
            logUnavailable(ctx, failure);
            return outcomeUnknown();
        }
        if (failure instanceof WriteGate.Abandoned) {
            // Answered already by the deadline, unless the deadline was too close to begin the write.
            Rejection.TIMEOUT.mark(ctx);
            return new Problem(503, "The request took too long; nothing was changed. Try again shortly.",
                    Map.of("Retry-After", RETRY_AFTER_SECONDS));
        }
        if (failure != null && Database.isBusy(failure)) {
            // The database aborted the statement (a lock held too long elsewhere, the request's deadline near) and
            // the transaction rolled back.
            Rejection.TIMEOUT.mark(ctx);
            return new Problem(503, "The database could not do it in time (a lock held elsewhere, or a slow query); "
                    + "nothing was changed. Try again shortly.", Map.of("Retry-After", RETRY_AFTER_SECONDS));
        }
        if (failure != null && Database.isUnavailable(failure)) {
            logUnavailable(ctx, failure);
            Rejection.DATABASE.mark(ctx);
            return new Problem(503, "The database cannot be reached right now; try again shortly.",
                    Map.of("Retry-After", RETRY_AFTER_SECONDS));
        }
        int status = ctx.statusCode();
        if (status >= 400 && status < 500) {
            // Vert.x Web refused the request itself (with or without an exception): the client's doing.
            return new Problem(status, describe(ctx, status));
        }
        String requestId = RequestIds.of(ctx);
        LOG.log(Level.SEVERE, "Unexpected failure of %s %s [request %s]".formatted(
                ctx.request().method(), ctx.request().path(), requestId), failure);
        return new Problem(500, "Something went wrong on our side; the request id is " + requestId + ".");
    }

    /**
     * The answer to a write whose COMMIT the database never confirmed: it may have been applied. Not "try again": a
     * retry without an Idempotency-Key could apply it twice.
     */
    static Problem outcomeUnknown() {
        return new Problem(504, "The database did not confirm the write in time, so it may or may not have been "
                + "applied. Read the resource to find out before sending it again; a write sent with an "
                + "Idempotency-Key can be retried with the same key, which answers its outcome instead of repeating it.");
    }

    /**
     * One line a second at most: during an outage every request fails the same way, and a line each (thousands a
     * second under load) would bury everything else in the logs.
     */
    private static void logUnavailable(RoutingContext ctx, Throwable failure) {
        long now = System.nanoTime();
        long last = lastUnavailableLog.get();
        if (now - last < UNAVAILABLE_LOG_INTERVAL_NANOS || !lastUnavailableLog.compareAndSet(last, now)) {
            unavailableUnlogged.incrementAndGet();
            return;
        }
        long more = unavailableUnlogged.getAndSet(0);
        LOG.warning(() -> "Database unavailable for %s %s [request %s]: %s%s".formatted(
                ctx.request().method(), ctx.request().path(), RequestIds.of(ctx), failure,
                more > 0 ? " (and %d more requests since the last such line)".formatted(more) : ""));
    }

    /** Sentences for the statuses Vert.x Web itself fails a request with. */
    private static String describe(RoutingContext ctx, int status) {
        return switch (status) {
            case 413 -> "The request body is larger than %d bytes.".formatted(Config.BODY_LIMIT_BYTES);
            // The router's own, for a Host it cannot parse as host[:port] (one missing is refused before, by Framing).
            case 400 -> ctx.request().authority() == null && ctx.request().getHeader("Host") != null
                    ? "The Host header '%s' is malformed: send the server's host name or address, and its port if not "
                            .formatted(shorten(ctx.request().getHeader("Host"))) + "the default (Host: api.example.com)."
                    : "The request could not be read.";
            case 403 -> "Requests from this Origin are not allowed (CORS).";
            // The body handler's, for a body sent under an expectation other than 100-continue.
            case 417 -> expectationFailed(ctx).detail();
            // The docs files' (StaticHandler's); Content-Range says how long the file is.
            default -> "The request was refused.";
        };
    }

    /**
     * Whether {@code ctx} carries an {@code Expect} this server cannot meet: anything but {@code 100-continue}, as
     * Vert.x Web's BodyHandler decides it for the writes that read a body.
     */
    public static boolean unmetExpectation(RoutingContext ctx) {
        String expect = ctx.request().getHeader("Expect");
        return expect != null && !expect.equalsIgnoreCase("100-continue");
    }

    /** The 417 of an {@code Expect} other than {@code 100-continue}. */
    public static Problem expectationFailed(RoutingContext ctx) {
        return new Problem(417, "Expect: '%s' cannot be met; this server meets only Expect: 100-continue, or send no "
                .formatted(shorten(String.join(", ", ctx.request().headers().getAll("Expect")))) + "Expect.");
    }

    private static boolean isFormTooLarge(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof HttpPostRequestDecoder.TooManyFormFieldsException
                    || t instanceof HttpPostRequestDecoder.TooLongFormFieldException) {
                return true;
            }
            // A field's value over Vert.x's maxFormAttributeSize: Netty's AbstractHttpData.checkSize says so only in
            // an IOException's message.
            if (t instanceof java.io.IOException e && e.getMessage() != null
                    && e.getMessage().startsWith("Size exceed allowed maximum capacity")) {
                return true;
            }
        }
        return false;
    }

    /** What a client sent, cut to a length a sentence can quote. */
    private static String shorten(String sent) {
        return sent.length() <= 60 ? sent : sent.substring(0, 60) + "...";
    }

    private static void nothingAt(RoutingContext ctx) {
        send(ctx, Problem.notFound("There is nothing at %s.".formatted(ctx.request().path())));
    }

    public static void send(RoutingContext ctx, Problem problem) {
        var response = ctx.response();
        if (response.ended()) {
            return; // answered already (a timeout's 503); the late outcome has no one to go to
        }
        if (response.headWritten()) {
            // The head is already sent and cannot be replaced: reset, so the client sees a failure, not a cut body.
            response.reset();
            return;
        }
        problem.headers().forEach(response::putHeader);
        response.setStatusCode(problem.status()).setStatusMessage(problem.title())
                .putHeader("Content-Type", CONTENT_TYPE);
        var request = ctx.request();
        if (!bodyUnread(ctx)) {
            response.end(json(problem, request.path()));
            return;
        }
        // Refused before its body was read (a 401, a 413, a slow body's 408): the rest of the body would have to be
        // read before the next request; closing costs the client one connection, and lingering keeps the answer.
        Framing.markClosing(request.connection());
        response.putHeader("Connection", "close")
                .end(json(problem, request.path()))
                .onComplete(written -> Framing.closeLingering(request.connection()));
    }

    /** True when {@code request} announced a body over HTTP/1 that has not all arrived. */
    static boolean bodyPending(HttpServerRequest request) {
        return !request.isEnded() && bodyAnnounced(request);
    }

    /** True when {@code request} announced a body over HTTP/1, whether or not it has arrived yet. */
    static boolean bodyAnnounced(HttpServerRequest request) {
        if (request.version() == HttpVersion.HTTP_2) {
            return false;
        }
        String length = request.getHeader("Content-Length");
        return request.getHeader("Transfer-Encoding") != null || (length != null && !length.equals("0"));
    }

    /**
     * True when the request announced a body that no handler read (no BodyHandler ran: a GET sent with one, a route
     * that takes none, a refusal before the body): its answer closes the connection. Decided on the request, not on
     * when its bytes came: a body in the same packet as the head is already swallowed by the decoder when the answer
     * goes, one sent a moment later is not, and the two used to end differently (kept open, closed).
     */
    static boolean bodyUnread(RoutingContext ctx) {
        var request = ctx.request();
        return bodyAnnounced(request) && (!request.isEnded() || !ctx.body().available());
    }

    /** The RFC 9457 body of {@code problem}; {@code instance} is the request's path, if it has one. */
    static String json(Problem problem, String instance) {
        var body = new JsonObject()
                .put("type", "about:blank")
                .put("title", problem.title())
                .put("status", problem.status())
                .put("detail", problem.detail());
        if (instance != null) {
            body.put("instance", instance);
        }
        return body.encode();
    }
}
