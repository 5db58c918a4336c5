package dev.robots.idempotency;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;

/**
 * The answer of a write, as it is sent and, under an {@code Idempotency-Key}, stored and replayed.
 *
 * @param location the {@code Location} header, or null
 * @param etag     the {@code ETag} header, or null
 * @param replayed whether this is a stored answer sent again ({@code Idempotent-Replayed: true})
 */
public record Reply(int status, Buffer body, String location, String etag, boolean replayed) {
    public static Reply of(int status, Buffer body, String location, String etag) {
        return new Reply(status, body, location, etag, false);
    }

    /** Sends it as JSON, unless the request was answered already (a timeout's 503). */
    public void send(RoutingContext ctx) {
        var response = ctx.response();
        if (response.ended()) {
            return;
        }
        if (location != null) {
            response.putHeader("Location", location);
        }
        if (etag != null) {
            response.putHeader("ETag", etag);
        }
        if (replayed) {
            response.putHeader("Idempotent-Replayed", "true");
        }
        response.setStatusCode(status).putHeader("Content-Type", "application/json; charset=utf-8").end(body);
    }
}
