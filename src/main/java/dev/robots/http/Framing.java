package dev.robots.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.AttributeKey;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Locale;

/**
 * HTTP/1.1 message framing that this server and a front end (Cloud Run's, a load balancer) could not read differently:
 * a request whose length is ambiguous, or whose headers a proxy and this server might pick differently, is refused
 * with a problem and the connection is closed, since whatever follows on it cannot be trusted to be a request of its
 * own (request smuggling, RFC 9112 section 6.1 and 11.2). Refused are: {@code Content-Length} together with
 * {@code Transfer-Encoding}, a {@code Transfer-Encoding} other than {@code chunked} (501), two {@code Host} or two
 * {@code Authorization} headers, an HTTP/1.1 request without {@code Host}, and a version other than HTTP/1.0 or
 * HTTP/1.1 (505; Vert.x would answer 501 without a body). Netty's decoder removes
 * {@code Content-Length} from a chunked request before anything else sees it, so the checks run inside the decoder.
 *
 * <p>Requests that Netty's decoder itself cannot read (a request line over the limit, too many header bytes, a
 * malformed line) get a problem too, instead of Vert.x's empty answer, and the connection is closed.
 */
public final class Framing {
    private static final String DECODER = "httpDecoder";
    private static final AttributeKey<Runnable> BROKEN_BODY = AttributeKey.valueOf(Framing.class, "brokenBody");

    private Framing() {
    }

    /** Installs the checks on {@code server}, whose decoder is made with {@code options}. */
    public static HttpServer install(HttpServer server, HttpServerOptions options) {
        return server
                .connectionHandler(connection -> strictDecoder(connection, options))
                .invalidRequestHandler(Framing::refuse);
    }

    /**
     * Puts the strict decoder in place of Vert.x's own. The connection handler runs on the connection's event loop
     * as its pipeline is built, before any byte is decoded.
     */
    private static void strictDecoder(HttpConnection connection, HttpServerOptions options) {
        if (connection instanceof ConnectionBase base) {
            ChannelPipeline pipeline = base.channel().pipeline();
            if (pipeline.get(DECODER) instanceof VertxHttpRequestDecoder decoder && !(decoder instanceof Strict)) {
                pipeline.replace(DECODER, DECODER, new Strict(options));
            }
        }
    }

    /** A request the decoder refused: a problem with the status that fits, then the connection closes. */
    private static void refuse(HttpServerRequest request) {
        Throwable cause = request.decoderResult().cause();
        int status;
        String detail;
        if (cause instanceof Refusal refusal) {
            status = refusal.status;
            detail = refusal.getMessage();
        } else if (cause instanceof TooLongHttpLineException) {
            status = 414;
            detail = "The request line is longer than the server accepts.";
        } else if (cause instanceof TooLongHttpHeaderException || cause instanceof TooLongFrameException) {
            status = 431;
            detail = "The request's headers are larger than the server accepts.";
        } else {
            status = 400;
            detail = "The request is not valid HTTP/1.1.";
        }
        var problem = new Problem(status, detail);
        request.response().setStatusCode(status)
                .putHeader("Content-Type", Problems.CONTENT_TYPE)
                .putHeader("Connection", "close")
                .end(Problems.json(problem, null))
                .onComplete(written -> request.connection().close());
    }

    /**
     * A route handler, first for every request with a body: should the body turn out malformed (a chunk size that is
     * not hexadecimal, say), the request gets a 400 problem and its connection closes. Vert.x would fail the whole
     * connection at once, and the client would see it dropped without a status while the access log recorded an
     * answer that was never sent.
     */
    public static void answerBrokenBodies(RoutingContext ctx) {
        if (Problems.bodyPending(ctx.request()) && ctx.request().connection() instanceof ConnectionBase base) {
            Context context = Vertx.currentContext();
            var pending = base.channel().attr(BROKEN_BODY);
            pending.set(() -> context.runOnContext(later -> Problems.send(ctx,
                    Problem.badRequest("The request body is not valid HTTP/1.1 (a malformed chunk)."))));
            ctx.addEndHandler(ended -> pending.set(null));
        }
        ctx.next();
    }

    /** A request refused while its headers were decoded. */
    private static final class Refusal extends IllegalArgumentException {
        private final int status;

        Refusal(int status, String detail) {
            super(detail, null);
            this.status = status;
        }
    }

    /** Vert.x's decoder, with the framing checks run once a request's headers are read and before its body is. */
    private static final class Strict extends VertxHttpRequestDecoder {
        Strict(HttpServerOptions options) {
            super(options);
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
            int from = out.size();
            super.decode(ctx, buffer, out);
            for (int i = from; i < out.size(); i++) {
                if (out.get(i) instanceof HttpContent content && !(content instanceof HttpMessage)
                        && content.decoderResult().isFailure()) {
                    // The decoder reads nothing more from this connection; answer the request, then close it.
                    out.remove(i);
                    content.release();
                    Runnable answer = ctx.channel().attr(BROKEN_BODY).getAndSet(null);
                    if (answer != null) {
                        answer.run();
                    } else {
                        ctx.close();
                    }
                    return;
                }
            }
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpMessage message) {
            HttpVersion version = message.protocolVersion();
            if (version.majorVersion() != 1 || version.minorVersion() > 1) {
                message.setProtocolVersion(HttpVersion.HTTP_1_1); // the version of the answer's status line
                throw new Refusal(505, "HTTP/1.1 and HTTP/1.0 are the versions this server speaks.");
            }
            var headers = message.headers();
            List<String> encodings = headers.getAll(HttpHeaderNames.TRANSFER_ENCODING);
            if (!encodings.isEmpty()) {
                if (headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
                    throw new Refusal(400, "The request has both Content-Length and Transfer-Encoding.");
                }
                if (encodings.size() > 1 || !encodings.getFirst().strip().toLowerCase(Locale.ROOT).equals("chunked")) {
                    throw new Refusal(501, "Transfer-Encoding chunked is the only one supported.");
                }
            }
            int hosts = headers.getAll(HttpHeaderNames.HOST).size();
            if (hosts > 1) {
                throw new Refusal(400, "The request has more than one Host header.");
            }
            if (hosts == 0 && message.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
                throw new Refusal(400, "An HTTP/1.1 request needs a Host header.");
            }
            if (headers.getAll(HttpHeaderNames.AUTHORIZATION).size() > 1) {
                throw new Refusal(400, "The request has more than one Authorization header.");
            }
            return super.isContentAlwaysEmpty(message);
        }
    }
}
