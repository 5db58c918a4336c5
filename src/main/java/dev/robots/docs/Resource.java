package dev.robots.docs;

import dev.robots.http.HttpDate;
import dev.robots.http.Preconditions;
import dev.robots.http.Problem;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URLConnection;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.Map;

/**
 * A file of the jar as the docs routes serve it, with validators that stay the same for as long as the file does: an
 * ETag from its bytes and {@code Last-Modified} from its own time in the jar. Served through Vert.x's StaticHandler,
 * the webjar's files said {@code Last-Modified} = when this process first extracted them, which moved with each start
 * and differed between instances, so a client's copy never revalidated; the other files had no validator at all.
 *
 * @param lastModified the file's time, whole seconds (HTTP dates have no finer unit), or null when the jar has none
 */
record Resource(Buffer body, String etag, Instant lastModified) {

    /** Thrown when the jar has no file of that name: a 404, not a bug. */
    static final class Missing extends RuntimeException {
        Missing(String name) {
            super("the jar has no " + name, null, false, false);
        }
    }

    /** Reads {@code name} from the class path; blocking. */
    static Resource read(String name) throws IOException {
        var url = Resource.class.getClassLoader().getResource(name);
        if (url == null) {
            throw new Missing(name);
        }
        URLConnection connection = url.openConnection();
        long time = connection instanceof JarURLConnection jar ? jar.getJarEntry().getTime()
                : connection.getLastModified();
        byte[] bytes;
        try (InputStream in = connection.getInputStream()) {
            bytes = in.readAllBytes();
        }
        return new Resource(Buffer.buffer(bytes), etagOf(bytes),
                time > 0 ? Instant.ofEpochMilli(time).truncatedTo(ChronoUnit.SECONDS) : null);
    }

    private static String etagOf(byte[] bytes) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
            return "\"" + HexFormat.of().formatHex(digest, 0, 12) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    String lastModifiedHeader() {
        return HttpDate.format(lastModified);
    }

    /**
     * The 412 of a precondition that does not hold for this file, or null (RFC 9110 section 13.2.2: If-Match, else
     * If-Unmodified-Since, both before If-None-Match); a 400 problem for an If-Match that cannot be read, as on a robot.
     */
    Problem preconditionFailedFor(RoutingContext ctx) {
        Preconditions ifMatch = Preconditions.ifMatch(ctx);
        if (ifMatch != null) {
            return ifMatch.matches(etag) ? null : Preconditions.failed(etag, "this file");
        }
        String since = ctx.request().getHeader("If-Unmodified-Since");
        if (since == null || lastModified == null) {
            return null;
        }
        Instant date = HttpDate.parse(since);
        if (date == null) {
            return null; // ignored, as the RFC says
        }
        return lastModified.isAfter(date)
                ? new Problem(412, "This file changed after If-Unmodified-Since: its Last-Modified is %s; read it "
                        .formatted(lastModifiedHeader()) + "again and retry.", Map.of("ETag", etag))
                : null;
    }

    /**
     * Whether the client's copy is this one (RFC 9110 section 13.2.2): {@code If-None-Match} when it is sent (weak
     * comparison, {@code *} too), else {@code If-Modified-Since}; a date that cannot be read is ignored, as the RFC says.
     * An If-None-Match that cannot be read is a 400 problem, as on a robot.
     */
    boolean notModifiedFor(HttpServerRequest request) {
        Preconditions.NoneMatch ifNoneMatch = Preconditions.ifNoneMatch(request);
        if (ifNoneMatch != null) {
            return ifNoneMatch.matches(etag);
        }
        String since = request.getHeader("If-Modified-Since");
        if (since == null || lastModified == null) {
            return false;
        }
        Instant date = HttpDate.parse(since);
        return date != null && !lastModified.isAfter(date);
    }
}
