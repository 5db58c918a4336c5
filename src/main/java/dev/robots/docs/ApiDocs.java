package dev.robots.docs;

import dev.robots.http.HttpDate;
import dev.robots.http.Problem;
import dev.robots.http.Problems;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
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
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";
    /**
     * The two files of the webjar the page loads, under its version directory (index.html names the version). The
     * webjar also holds Swagger UI's demo pages (index.html, pointing at petstore.swagger.io, oauth2-redirect.html),
     * which must not be served from this origin without the page's policy.
     */
    private static final Pattern ASSETS =
            Pattern.compile("/docs/swagger-ui/[0-9][0-9A-Za-z.-]*/swagger-ui(?:-bundle\\.js|\\.css)");

    private final Vertx vertx;
    /** Read from the jar on first request, off the event loop, once per server: the start does not pay for them. */
    private final Map<String, Future<Buffer>> resources = new HashMap<>();
    private StaticHandler assets;

    public ApiDocs(Vertx vertx) {
        this.vertx = vertx;
    }

    public void mount(Router router) {
        // Every GET answers HEAD too, as the API's own routes do, and another method is a 405 problem with Allow.
        readOnly(router, "/openapi.yaml", ctx -> send(ctx, "openapi/openapi.yaml", "application/yaml"));
        readOnly(router, "/openapi.json", ctx -> send(ctx, "openapi/openapi.json", "application/json"));
        readOnly(router, "/docs", this::page);
        readOnly(router, "/docs/init.js", ctx -> send(ctx, "docs/init.js", "text/javascript; charset=utf-8"));
        // StaticHandler passes a file it does not have (another version's) to the next handler: a 404 problem, not
        // the 405 of the route behind.
        readOnly(router, "/docs/swagger-ui/*", this::asset, ApiDocs::nothingThere);
    }

    @SafeVarargs
    private static void readOnly(Router router, String path, Handler<RoutingContext>... handlers) {
        var route = router.route(path).method(HttpMethod.GET).method(HttpMethod.HEAD);
        for (var handler : handlers) {
            route.handler(handler);
        }
        Problems.methodNotAllowed(router, path, "GET, HEAD");
    }

    private static void nothingThere(RoutingContext ctx) {
        Problems.send(ctx, Problem.notFound("There is nothing at %s.".formatted(ctx.request().path())));
    }

    /** The webjar's versioned files; made on first use, so the start does not wait. */
    private void asset(RoutingContext ctx) {
        if (!ASSETS.matcher(ctx.request().path()).matches()) {
            nothingThere(ctx);
            return;
        }
        if (ctx.request().headers().contains("If-Range")) {
            // StaticHandler answers a Range with a 206 whatever If-Range says, though a validator that does not match
            // asks for the whole file (RFC 9110 section 13.1.5). A server may ignore Range (section 14.2), and these
            // files are a few hundred KiB: with If-Range, the whole file.
            ctx.request().headers().remove("Range");
        }
        ctx.addHeadersEndHandler(v -> imfFixdates(ctx.response()));
        // StaticHandler names the type only on a GET; a HEAD must carry the same headers (RFC 9110 §9.3.2).
        ctx.response().putHeader("Content-Type",
                ctx.request().path().endsWith(".css") ? "text/css;charset=UTF-8" : "text/javascript;charset=UTF-8");
        if (assets == null) {
            assets = StaticHandler.create("META-INF/resources/webjars/swagger-ui").setIndexPage("-")
                    .setDirectoryListing(false);
        }
        assets.handle(ctx);
    }

    /**
     * StaticHandler's {@code Date} and {@code Last-Modified} come from java.time's RFC 1123 form, whose one-digit day
     * ({@code Tue, 1 Dec 2026}) is not an IMF-fixdate (RFC 9110 section 5.6.7): both restated in it.
     */
    private static void imfFixdates(HttpServerResponse response) {
        HttpDate.put(response);
        String modified = response.headers().get(HttpHeaders.LAST_MODIFIED);
        if (modified != null) {
            response.headers().set(HttpHeaders.LAST_MODIFIED,
                    HttpDate.format(Instant.from(DateTimeFormatter.RFC_1123_DATE_TIME.parse(modified))));
        }
    }

    private void page(RoutingContext ctx) {
        ctx.response().putHeader("Content-Security-Policy", PAGE_POLICY);
        send(ctx, "docs/index.html", "text/html; charset=utf-8");
    }

    private void send(RoutingContext ctx, String resource, String contentType) {
        resources.computeIfAbsent(resource, this::read)
                .onSuccess(body -> ctx.response().putHeader("Content-Type", contentType).end(body))
                .onFailure(ctx::fail);
    }

    private Future<Buffer> read(String resource) {
        return vertx.executeBlocking(() -> {
            try (InputStream in = ApiDocs.class.getClassLoader().getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("the jar has no " + resource);
                }
                return Buffer.buffer(in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, false);
    }
}
