package dev.robots.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;

/**
 * A {@code HEAD} answer carries the headers its {@code GET} would, {@code Content-Length} too (RFC 9110 section
 * 9.3.2): Vert.x leaves it out of every answer to a {@code HEAD}, so a client could not learn a representation's size
 * without fetching it.
 */
public final class Heads {
    private Heads() {
    }

    /** Mount before anything that may answer. A {@code GET} pays one comparison. */
    public static void mount(Router router) {
        router.route().order(-1).handler(ctx -> {
            if (ctx.request().method() == HttpMethod.HEAD) {
                var response = ctx.response();
                ctx.addHeadersEndHandler(v -> {
                    int status = response.getStatusCode();
                    // An answer ended with its whole body (Vert.x counts it, though a HEAD sends none): its length.
                    // A chunked one would have its first chunk counted only, and 204 and 304 carry no length.
                    if (!response.isChunked() && status != 204 && status != 304
                            && !response.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
                        response.putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(response.bytesWritten()));
                    }
                });
            }
            ctx.next();
        });
    }
}
