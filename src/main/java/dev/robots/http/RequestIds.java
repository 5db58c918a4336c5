package dev.robots.http;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The id that ties a request to its log lines and its answer: the caller's {@code X-Request-Id} when it is sane
 * (echoed in the response and the access entry), else one made on first use (a 500's problem quotes it), because
 * almost every request succeeds without needing one.
 */
public final class RequestIds {
    public static final String HEADER = "X-Request-Id";
    private static final String KEY = "request-id";
    private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    private RequestIds() {
    }

    /** Echoes a caller's id in every response; mount before anything that may answer. */
    public static void mount(Router router) {
        router.route().order(-1).handler(ctx -> {
            String given = ctx.request().getHeader(HEADER);
            if (given != null) {
                of(ctx);
            }
            ctx.next();
        });
    }

    public static String of(RoutingContext ctx) {
        String id = ctx.get(KEY);
        if (id == null) {
            String given = ctx.request().getHeader(HEADER);
            id = given != null && SANE.matcher(given).matches() ? given : UUID.randomUUID().toString();
            ctx.put(KEY, id);
            if (!ctx.response().headWritten()) {
                ctx.response().putHeader(HEADER, id);
            }
        }
        return id;
    }
}
