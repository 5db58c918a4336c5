package dev.robots.http;

import io.vertx.ext.web.RoutingContext;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The id that ties a request to its log lines: the caller's {@code X-Request-Id} when it is sane, else a new one.
 * Made on first use only, because almost every request succeeds without needing one.
 */
public final class RequestIds {
    private static final String KEY = "request-id";
    private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    private RequestIds() {
    }

    public static String of(RoutingContext ctx) {
        String id = ctx.get(KEY);
        if (id == null) {
            String given = ctx.request().getHeader("X-Request-Id");
            id = given != null && SANE.matcher(given).matches() ? given : UUID.randomUUID().toString();
            ctx.put(KEY, id);
        }
        return id;
    }
}
