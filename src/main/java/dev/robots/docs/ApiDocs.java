package dev.robots.docs;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

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

    private final Vertx vertx;
    /** Read from the jar on first request, off the event loop, once per server: the start does not pay for them. */
    private final Map<String, Future<Buffer>> resources = new HashMap<>();
    private StaticHandler assets;

    public ApiDocs(Vertx vertx) {
        this.vertx = vertx;
    }

    public void mount(Router router) {
        router.get("/openapi.yaml").handler(ctx -> send(ctx, "openapi/openapi.yaml", "application/yaml"));
        router.get("/openapi.json").handler(ctx -> send(ctx, "openapi/openapi.json", "application/json"));
        router.get("/docs").handler(this::page);
        router.get("/docs/init.js").handler(ctx -> send(ctx, "docs/init.js", "text/javascript; charset=utf-8"));
        router.get("/docs/swagger-ui/*").handler(this::asset);
    }

    /** The webjar's versioned files (index.html names the version); made on first use, so the start does not wait. */
    private void asset(RoutingContext ctx) {
        if (assets == null) {
            // Its own index.html would show a demo API: no index page.
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
