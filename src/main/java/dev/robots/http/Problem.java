package dev.robots.http;

import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Map;

/**
 * A client-facing failure: an RFC 9457 problem with a sentence a person understands. Throwing it (or failing a
 * future with it) anywhere in a request ends that request with this answer; it is not logged as an error.
 */
public final class Problem extends RuntimeException {
    private final int status;
    private final Map<String, String> headers;

    public Problem(int status, String detail) {
        this(status, detail, Map.of());
    }

    public Problem(int status, String detail, Map<String, String> headers) {
        super(detail, null, false, false);
        this.status = status;
        this.headers = headers;
    }

    public static Problem badRequest(String detail) {
        return new Problem(400, detail);
    }

    public static Problem notFound(String detail) {
        return new Problem(404, detail);
    }

    public int status() {
        return status;
    }

    /**
     * The status's reason phrase as RFC 9110 names it, which is also the status line's (Problems): Netty's phrases
     * are RFC 2616's for 413, 414 and 422, and Vert.x's CORS handler put "CORS Rejected - Invalid origin" in the status
     * line of a 403 whose title said Forbidden.
     */
    public String title() {
        return switch (status) {
            case 413 -> "Content Too Large";
            case 414 -> "URI Too Long";
            case 422 -> "Unprocessable Content";
            default -> HttpResponseStatus.valueOf(status).reasonPhrase();
        };
    }

    public String detail() {
        return getMessage();
    }

    public Map<String, String> headers() {
        return headers;
    }
}
