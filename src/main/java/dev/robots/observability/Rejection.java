package dev.robots.observability;

import io.vertx.ext.web.RoutingContext;
import java.util.Locale;

/**
 * Why the service answered a request with 503: the {@code cause} label of {@code robots_http_rejections_total}, a
 * closed set, so that a dashboard can tell an instance that is full from one that is slow or cut off from its
 * database.
 */
public enum Rejection {
    /** {@code MAX_CONCURRENT_REQUESTS} were already in progress. */
    OVERLOAD,
    /** The request outlived {@code REQUEST_TIMEOUT_MS}. */
    TIMEOUT,
    /** The database could not be reached, or no pooled connection came within {@code DB_TIMEOUT_MS}. */
    DATABASE;

    private static final String CONTEXT_KEY = "robots.rejection";

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Records on the request why it is refused; {@link RequestMetrics} counts it once the answer is written. */
    public void mark(RoutingContext ctx) {
        ctx.put(CONTEXT_KEY, this);
    }

    static Rejection of(RoutingContext ctx) {
        return ctx.get(CONTEXT_KEY);
    }
}
