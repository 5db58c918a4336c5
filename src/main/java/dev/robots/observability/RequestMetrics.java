package dev.robots.observability;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Requests and their latency per method, route and status: {@code http_server_requests_seconds} (count, sum and
 * latency buckets). Every label comes from a closed set, whatever a client sends: the standard methods or
 * {@code other}, the routes' own templates or {@code unmatched}, and the statuses this service answers with. In place of Vert.x's own HTTP server metrics, which a profile of the GET load showed taking 13%
 * of the event loops' time (tags built, meters looked up and a gauge re-registered on every request); here a request
 * costs one map lookup and one timer update. And the 503s by cause: {@code robots_http_rejections_total}
 * ({@link Rejection}).
 */
public final class RequestMetrics {
    private record Key(String method, String route, int status) {}

    /** Methods that name their own series; any other (a client can send any token) is {@code other}. */
    private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
            "TRACE", "CONNECT");

    private final MeterRegistry registry;
    private final ConcurrentHashMap<Key, Timer> timers = new ConcurrentHashMap<>();
    private final EnumMap<Rejection, Counter> rejections = new EnumMap<>(Rejection.class);
    private volatile List<Template> templates;
    /** The first router measured; the others have the same routes. */
    private volatile Router router;

    public RequestMetrics(MeterRegistry registry) {
        this.registry = registry;
        // Every cause from the start, at 0: a rate over a series that appears only with its first 503 reads as no data.
        for (var cause : Rejection.values()) {
            rejections.put(cause, Counter.builder("robots.http.rejections")
                    .description("Requests answered with 503, by cause")
                    .tag("cause", cause.label())
                    .register(registry));
        }
    }

    public void mount(Router router) {
        if (this.router == null) {
            this.router = router;
        }
        router.route().order(-1).handler(this::measure);
    }

    private void measure(RoutingContext ctx) {
        long started = System.nanoTime();
        ctx.addBodyEndHandler(written -> {
            timer(ctx).record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
            Rejection rejection = Rejection.of(ctx);
            if (rejection != null && ctx.response().getStatusCode() == 503) {
                rejections.get(rejection).increment();
            }
        });
        ctx.next();
    }

    /**
     * An answer given without the router ({@code Framing}: a request the decoder refused, a target that is not a
     * path), measured from when it was decided: route {@code unmatched}, and method {@code other} when the request
     * could not be read ({@code parsed} false).
     */
    public void unrouted(HttpServerRequest request, boolean parsed, long startedNanos) {
        String method = request.method().name();
        timer(parsed && METHODS.contains(method) ? method : "other", "unmatched", request.response().getStatusCode())
                .record(System.nanoTime() - startedNanos, TimeUnit.NANOSECONDS);
    }

    private Timer timer(RoutingContext ctx) {
        String method = ctx.request().method().name();
        return timer(METHODS.contains(method) ? method : "other", route(ctx), ctx.response().getStatusCode());
    }

    private Timer timer(String method, String route, int status) {
        var key = new Key(method, route, status);
        Timer timer = timers.get(key);
        return timer != null ? timer : timers.computeIfAbsent(key, k -> Timer.builder("http.server.requests")
                .description("HTTP requests: how many, and how long until the response was written")
                .tags("method", k.method(), "route", k.route(), "status", Integer.toString(k.status()))
                .register(registry));
    }

    /**
     * The path template of the route the request took ({@code /v1/robots/:id}), never the path itself, whose values
     * are unbounded. A route that answers itself is the current one; a failure (a 404 problem, say) is answered by
     * the failure handler, a refusal by a guard, routes without a path: then the first route of the router that
     * matches the path and takes the method names it, as routing would have picked it (else the first that matches
     * the path); {@code unmatched} when none does. The path alone named a failed {@code POST /v1/robots/repair} (a 400
     * for its form, a 404, a 503) {@code /v1/robots/:id}, the template of the GET route mounted before it.
     */
    private String route(RoutingContext ctx) {
        Route route = ctx.currentRoute();
        String served = route == null ? null : template(route);
        if (served != null) {
            return served;
        }
        // The path as sent, not normalizedPath(): that decodes escapes and throws on a malformed one (%ZZ), which
        // lost the request's measurement and logged a stack trace per request. Only canonical targets reach a route
        // (Targets), so for them the two are the same.
        String path = ctx.request().path();
        if (path == null) {
            return "unmatched";
        }
        HttpMethod method = ctx.request().method();
        String byPath = null;
        for (var template : templates()) {
            if (template.pattern().matcher(path).matches()) {
                if (template.methods().isEmpty() || template.methods().contains(method)) {
                    return template.path();
                }
                if (byPath == null) {
                    byPath = template.path();
                }
            }
        }
        return byPath != null ? byPath : "unmatched";
    }

    /** A route's path template, as a pattern, and the methods it takes (none: all). */
    private record Template(String path, Pattern pattern, Set<HttpMethod> methods) {}

    /**
     * The path template a route serves: its name when it has one (the robot read's route is a prefix that serves
     * {@code /v1/robots/:id}: RobotRoutes.mountRead), else its path.
     */
    public static String template(Route route) {
        String name = route.getName();
        return name != null && name.startsWith("/") ? name : route.getPath();
    }

    /** Read once, when routing is set up and a request first needs them. */
    private List<Template> templates() {
        List<Template> known = templates;
        if (known == null) {
            var found = new ArrayList<Template>();
            for (Route route : router.getRoutes()) {
                String path = template(route);
                if (path != null) {
                    found.add(new Template(path, Pattern.compile(Arrays.stream(path.split("/", -1))
                                    .map(part -> part.startsWith(":") ? "[^/]+" : Pattern.quote(part))
                                    .collect(Collectors.joining("/"))),
                            route.methods() == null ? Set.of() : Set.copyOf(route.methods())));
                }
            }
            known = List.copyOf(found);
            templates = known;
        }
        return known;
    }
}
