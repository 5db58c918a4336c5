package dev.robots.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.Router;
import java.util.function.BooleanSupplier;

/**
 * Once shutdown has begun, every HTTP/1.x answer says {@code Connection: close}, so that a keep-alive client opens
 * its next request elsewhere instead of sending it down a connection that is about to close, and no request read behind
 * that answer is served. (HTTP/2 connections get
 * a GOAWAY from the server's own graceful shutdown.)
 */
public final class Draining {
    private Draining() {
    }

    public static void mount(Router router, BooleanSupplier shuttingDown) {
        router.route().handler(ctx -> {
            // At the moment the head is written, not when the request came in: a request that began before the
            // signal but answers after it is the last one on its connection too.
            ctx.addHeadersEndHandler(v -> {
                if (shuttingDown.getAsBoolean() && ctx.request().version() != HttpVersion.HTTP_2) {
                    ctx.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
                    // And it is: a request pipelined behind this one is not served (Framing), where it was, and
                    // answered "close" too, so a client that took the first answer at its word took the second
                    // request for one never carried out (a POST it might send again).
                    Framing.markClosing(ctx.request().connection());
                }
            });
            ctx.next();
        });
    }
}
