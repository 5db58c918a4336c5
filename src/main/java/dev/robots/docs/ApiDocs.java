package dev.robots.docs;

import dev.robots.http.Problem;
import dev.robots.http.Problems;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The contract of the API and a page that shows it, all from the jar (no CDN: the page works offline and behind a
 * firewall).
 *
 * <pre>
 * curl localhost:8080/openapi.yaml
 * curl localhost:8080/openapi.json
 * open http://localhost:8080/docs
 * </pre>
 */
public final class ApiDocs {
    /** Swagger UI's own scripts and styles, only from this server, plus the inline styles its components set. */
    private static final String PAGE_POLICY =
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; "
                    + "base-uri 'none'; form-action 'self'";
    /**
     * The two files of the webjar the page loads, under its version directory (index.html names the version). The
     * webjar also holds Swagger UI's demo pages (index.html, pointing at petstore.swagger.io, oauth2-redirect.html),
     * which must not be served from this origin without the page's policy.
     */
    private static final Pattern ASSETS =
            Pattern.compile("/docs/swagger-ui/[0-9][0-9A-Za-z.-]*/swagger-ui(?:-bundle\\.js|\\.css)");

    /** The webjar's files, under the path the page loads them from. */
    private static final String WEBJAR = "META-INF/resources/webjars/swagger-ui";
    /** Their paths name Swagger UI's version: a file there never changes. */
    private static final String VERSIONED = "public, max-age=86400, immutable";
    /** The others keep their path across releases: the client asks each time, and mostly gets a 304. */
    private static final String REVALIDATE = "no-cache";

    private final Vertx vertx;
    /** Read from the jar on first request, off the event loop, once per server: the start does not pay for them. */
    private final Map<String, Future<Resource>> resources = new HashMap<>();

    public ApiDocs(Vertx vertx) {
        this.vertx = vertx;
    }

    public void mount(Router router) {
        // Every GET answers HEAD too, as the API's own routes do, and another method is a 405 problem with Allow.
        readOnly(router, "/openapi.yaml", ctx -> send(ctx, "openapi/openapi.yaml", "application/yaml", REVALIDATE));
        readOnly(router, "/openapi.json", ctx -> send(ctx, "openapi/openapi.json", "application/json", REVALIDATE));
        readOnly(router, "/docs", this::page);
        readOnly(router, "/docs/init.js",
                ctx -> send(ctx, "docs/init.js", "text/javascript; charset=utf-8", REVALIDATE));
        readOnly(router, "/docs/swagger-ui/*", this::asset);
    }

    private static void readOnly(Router router, String path, Handler<RoutingContext> handler) {
        router.route(path).method(HttpMethod.GET).method(HttpMethod.HEAD).handler(handler);
        Problems.methodNotAllowed(router, path, "GET, HEAD");
    }

    /** The webjar's versioned files; made on first use, so the start does not wait. */
    private void asset(RoutingContext ctx) {
        String path = ctx.request().path();
        if (!ASSETS.matcher(path).matches()) {
            Problems.send(ctx, Problem.notFound("There is nothing at %s.".formatted(path)));
            return;
        }
        send(ctx, WEBJAR + path.substring("/docs/swagger-ui".length()),
                path.endsWith(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8", VERSIONED);
    }

    private void page(RoutingContext ctx) {
        ctx.response().putHeader("Content-Security-Policy", PAGE_POLICY);
        send(ctx, "docs/index.html", "text/html; charset=utf-8", REVALIDATE);
    }

    /**
     * The file, or a 304 when the client's copy is current, or a 412 when an {@code If-Match} (or, without one, an
     * {@code If-Unmodified-Since}) does not hold, as on a robot (RFC 9110 section 13.1.1: a GET under a failed
     * If-Match is not performed); the same headers for GET and HEAD.
     */
    private void send(RoutingContext ctx, String name, String contentType, String cacheControl) {
        // The page and its scripts are taken for what their Content-Type says, never sniffed; links from the page
        // tell no other site where it was.
        ctx.response().putHeader("X-Content-Type-Options", "nosniff").putHeader("Referrer-Policy", "no-referrer");
        resources.computeIfAbsent(name, this::read).onComplete(read -> {
            if (read.failed()) {
                resources.remove(name); // a version path that is not the webjar's: not kept, whatever is asked
                if (read.cause() instanceof Resource.Missing) {
                    Problems.send(ctx, Problem.notFound("There is nothing at %s.".formatted(ctx.request().path())));
                } else {
                    ctx.fail(read.cause());
                }
                return;
            }
            Resource resource = read.result();
            Problem failed;
            boolean notModified = false;
            try {
                failed = resource.preconditionFailedFor(ctx);
                notModified = failed == null && resource.notModifiedFor(ctx.request());
            } catch (Problem unreadable) {
                failed = unreadable;
            }
            if (failed != null) {
                // Without Cache-Control: a 400 or 412 sent with the file's (immutable, a day) could be kept by a
                // shared cache and served for the file. A 412 says what the file is now: its ETag (in the problem)
                // and Last-Modified.
                if (failed.status() == 412 && resource.lastModified() != null) {
                    ctx.response().putHeader("Last-Modified", resource.lastModifiedHeader());
                }
                Problems.send(ctx, failed);
                return;
            }
            var response = ctx.response().putHeader("ETag", resource.etag()).putHeader("Cache-Control", cacheControl);
            if (resource.lastModified() != null) {
                response.putHeader("Last-Modified", resource.lastModifiedHeader());
            }
            if (notModified) {
                response.setStatusCode(304).end();
            } else {
                response.putHeader("Content-Type", contentType).end(resource.body());
            }
        });
    }

    private Future<Resource> read(String name) {
        return vertx.executeBlocking(() -> {
            try {
                return Resource.read(name);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, false);
    }
}
