package dev.robots.docs;

import dev.robots.http.Problem;
import dev.robots.http.Problems;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.io.IOException;
import java.io.InputStream;
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
        readOnly(router, "/docs/swagger-ui/*", this::asset);
    }

    private static void readOnly(Router router, String path, Handler<RoutingContext> handler) {
        router.route(path).method(HttpMethod.GET).method(HttpMethod.HEAD).handler(handler);
        Problems.methodNotAllowed(router, path, "GET, HEAD");
    }

    /** The webjar's versioned files; made on first use, so the start does not wait. */
    private void asset(RoutingContext ctx) {
        if (!ASSETS.matcher(ctx.request().path()).matches()) {
            Problems.send(ctx, Problem.notFound("There is nothing at %s.".formatted(ctx.request().path())));
            return;
        }
        // StaticHandler names the type only on a GET; a HEAD must carry the same headers (RFC 9110 §9.3.2).
        ctx.response().putHeader("Content-Type",
                ctx.request().path().endsWith(".css") ? "text/css;charset=UTF-8" : "text/javascript;charset=UTF-8");
        if (assets == null) {
            assets = StaticHandler.create("META-INF/resources/webjars/swagger-ui").setIndexPage("-")
                    .setDirectoryListing(false);
        }
        assets.handle(ctx);
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
