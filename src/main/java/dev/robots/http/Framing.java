package dev.robots.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * HTTP/1.1 message framing that this server and a front end (Cloud Run's, a load balancer) could not read differently:
 * a request whose length is ambiguous, or whose headers a proxy and this server might pick differently, is refused
 * with a problem and the connection is closed, since whatever follows on it cannot be trusted to be a request of its
 * own (request smuggling, RFC 9112 section 6.1 and 11.2). Refused are: {@code Content-Length} together with
 * {@code Transfer-Encoding}, a {@code Transfer-Encoding} other than {@code chunked} (501) or in an HTTP/1.0 request,
 * two {@code Host} or two
 * {@code Authorization} headers, an HTTP/1.1 request without {@code Host}, and a version other than HTTP/1.0 or
 * HTTP/1.1 (505; Vert.x would answer 501 without a body), and a {@code Host} or an absolute-form target's authority
 * that is not {@code host[:port]} ({@link Authorities}: one rule for both, userinfo refused). Netty's decoder removes
 * {@code Content-Length} from a chunked request before anything else sees it, so the checks run inside the decoder.
 *
 * <p>Requests that Netty's decoder itself cannot read (a request line over the limit, too many header bytes, a
 * malformed line) get a problem too, instead of Vert.x's empty answer, and the connection is closed. So does a header
 * line folded onto the one before it (obs-fold, RFC 9112 section 5.2): Netty would join it to that header, where a
 * front end might read it as a header of its own ({@code " Transfer-Encoding: chunked"}).
 *
 * <p>A request's head (its line and headers) must arrive within {@code REQUEST_HEAD_TIMEOUT_MS} of its first byte,
 * else it gets 408 and the connection closes: the idle timeout alone let a head trickled a byte at a time hold its
 * connection for as long as its 8 KiB lasted (slowloris). One timer per connection, re-armed only when it fires, as
 * Netty's {@code IdleStateHandler} does; not one per request.
 *
 * <p>Only origin-form targets ({@code /path}, or a whole URL) reach the router: {@code OPTIONS *} asks about the
 * server itself and is answered 204 with {@code Allow}; any other asterisk or authority form ({@code CONNECT
 * host:port}) is a 400 problem. Vert.x Web would fail those with a bare 404 before any of the router's handlers ran.
 */
public final class Framing {
    private static final Logger LOG = Logger.getLogger(Framing.class.getName());
    private static final String DECODER = "httpDecoder";
    /** Vert.x's connection handler, last in an HTTP/1 pipeline. */
    private static final String VERTX_HANDLER = "handler";
    /** The longest a connection refused mid-body reads and throws away what its client still sends. */
    static final long LINGER_MS = 2_000;
    /** The answer of the request in progress should its body turn out broken ({@link #answerBrokenBodies}). */
    private static final AttributeKey<Runnable> BROKEN_BODY = AttributeKey.valueOf(Framing.class, "brokenBody");
    /** The body of a request read behind others not answered yet turned out broken: its 400 waits for its turn. */
    private static final AttributeKey<Boolean> BODY_BROKEN_BEHIND = AttributeKey.valueOf(Framing.class, "brokenBehind");
    /** Set once an answer that closes its connection is on its way: no request read behind it is served. */
    private static final AttributeKey<Boolean> CLOSING = AttributeKey.valueOf(Framing.class, "closing");

    private Framing() {
    }

    /**
     * Installs the checks on {@code server}, whose decoder is made with {@code options}, and serves its requests with
     * {@code router}; {@code allow} is what {@code OPTIONS *} answers (the methods that the server's paths accept).
     * {@code listeners} learns the server's listening socket, for the shutdown. {@code unrouted} hears of every
     * answer given without the router (a request the decoder refused, a target that is not a path), once it is
     * written, so that the access log and the request metrics count those answers too.
     */
    public static HttpServer install(HttpServer server, HttpServerOptions options, Duration headTimeout, Router router,
            String allow, Listeners listeners, Unrouted unrouted) {
        long headTimeoutNanos = headTimeout.toNanos();
        return server
                .connectionHandler(connection -> {
                    if (connection instanceof ConnectionBase base) {
                        listeners.accepted(base.channel());
                        // Looked up now, while the socket has its peer, and kept by Netty: io_uring's accepted
                        // sockets ask the kernel on first use, which after a reset answers nothing (the access log
                        // showed "null" for the requests of a client that had reset).
                        base.channel().remoteAddress();
                    }
                    strictDecoder(connection, options, headTimeoutNanos);
                })
                .invalidRequestHandler(request -> {
                    HttpDate.put(request.response());
                    observe(request, false, unrouted);
                    refuse(request);
                })
                .requestHandler(request -> {
                    HttpDate.put(request.response()); // every answer, whichever handler gives it
                    String path = request.path();
                    if (isClosing(request.connection())) {
                        // Pipelined behind a request whose answer closes the connection: Vert.x had read it already
                        // and hands it over as that answer completes, but the client was told no more is answered.
                        closeLingering(request.connection());
                    } else if (path != null && path.startsWith("/")) {
                        router.handle(request);
                    } else {
                        observe(request, true, unrouted);
                        otherForm(request, allow);
                    }
                });
    }

    /**
     * Hears of an answer given without the router, once it is written. {@code parsed}: the request's method and
     * target are the ones the client sent; else (a request the decoder refused) they are stand-ins, and unknown.
     */
    @FunctionalInterface
    public interface Unrouted {
        Unrouted NONE = (request, parsed, startedNanos) -> { };

        void answered(HttpServerRequest request, boolean parsed, long startedNanos);
    }

    private static void observe(HttpServerRequest request, boolean parsed, Unrouted unrouted) {
        if (unrouted != Unrouted.NONE) {
            long started = System.nanoTime();
            request.response().bodyEndHandler(written -> unrouted.answered(request, parsed, started));
        }
    }

    /**
     * Puts the strict decoder in place of Vert.x's own. The connection handler runs on the connection's event loop
     * as its pipeline is built, before any byte is decoded.
     */
    private static void strictDecoder(HttpConnection connection, HttpServerOptions options, long headTimeoutNanos) {
        if (connection instanceof ConnectionBase base) {
            ChannelPipeline pipeline = base.channel().pipeline();
            if (pipeline.get(DECODER) instanceof VertxHttpRequestDecoder decoder && !(decoder instanceof Strict)) {
                pipeline.replace(DECODER, DECODER, new Strict(options, headTimeoutNanos));
            }
            if (pipeline.get(VERTX_HANDLER) != null && pipeline.get(HalfClosed.class) == null) {
                base.channel().config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
                pipeline.addBefore(VERTX_HANDLER, null, new HalfClosed());
            }
        }
    }

    /**
     * The end of input (a client that shut its side down, or hung up) closes the connection, as Netty's default does,
     * but only once every request read in full has its answer written, and after that answer goes out. A FIN says the
     * client sends nothing more, not that it stops reading (RFC 9112 section 9.6: a client may half-close after its
     * last request and still read the answer). Netty closed at once, discarding answers written and not yet flushed
     * (on io_uring, whose read of the end can arrive with the request, even an answer from the read cache: a GET then
     * {@code shutdown(SHUT_WR)} got 0 of 20 answers, epoll 20 of 20) and cutting off requests still in progress: a
     * {@code POST} waiting on the database created its robot and its 201 was never sent, so the client could not
     * tell whether it had. A request whose body the end cut short can never be whole and gets no answer: the
     * connection closes once the requests before it are answered (at once if there are none); a request the decoder
     * refused is whole and gets its problem first. An answer that never comes is bounded by the idle timeout.
     */
    static final class HalfClosed extends ChannelDuplexHandler {
        /** Requests read (their heads) whose final answers have not been written yet. */
        private int unanswered;
        /** A request's head was read and the end of its body not yet. */
        private boolean midBody;
        private boolean inputEnded;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest request) {
                unanswered++;
                // One the decoder refused is whole as it is: it is answered (refuse) and nothing of it follows.
                midBody = request.decoderResult().isSuccess();
            }
            if (msg instanceof LastHttpContent) {
                midBody = false;
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            // A final answer's last part; an interim one (100 Continue) is whole too, and answers nothing.
            boolean answered = msg instanceof LastHttpContent
                    && !(msg instanceof HttpResponse response
                            && response.status().codeClass() == HttpStatusClass.INFORMATIONAL);
            ctx.write(msg, promise);
            if (answered) {
                unanswered = Math.max(0, unanswered - 1);
                if (inputEnded && allAnswered()) {
                    closeAfterWrites(ctx);
                } else if (unanswered == 0 && ctx.channel().attr(BODY_BROKEN_BEHIND).getAndSet(null) != null) {
                    // The request with the broken body was answered before its 400 could be; its body may still
                    // be arriving.
                    lingerThenClose(ctx.channel());
                }
            }
        }

        /**
         * No read once the input ended: there is nothing more to read, and on epoll a read asked for then (Vert.x
         * resumes reading when the requests queued behind a slow one are answered) closed the channel under the
         * answers still to come: of six requests pipelined behind a POST, the last answer was lost.
         */
        @Override
        public void read(ChannelHandlerContext ctx) {
            if (!inputEnded) {
                ctx.read();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof ChannelInputShutdownEvent) {
                inputEnded = true;
                if (allAnswered()) {
                    closeAfterWrites(ctx);
                }
                return;
            }
            ctx.fireUserEventTriggered(event);
        }

        /**
         * The body of the last request read turned out broken: it is whole as it is (it gets a 400, not more body).
         * The requests read and not answered yet, that one included.
         */
        int bodyBroken() {
            midBody = false;
            return unanswered;
        }

        /** Every request read whole has its answer: a request whose body the end cut short never will. */
        private boolean allAnswered() {
            return unanswered <= (midBody ? 1 : 0);
        }

        /** Flushes what was written (Vert.x flushes when a read completes, which may not come now), then closes. */
        static void closeAfterWrites(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }

        /**
         * The socket's own failure (a reset: "Connection reset by peer", a write to a peer gone) closes the connection,
         * as a hang-up does: Vert.x then fails the requests in progress with {@code HttpClosedException}, which
         * Problems takes for the client leaving. Passed on to Vert.x, the socket's error reached the request in
         * progress as itself, the same classes as a database connection's, and was answered as the database being
         * unavailable (a 503 counted under {@code cause="database"}, a warning); and with requests pipelined behind
         * it, Vert.x's own handling threw (a NullPointerException on a request not yet answered, logged as a warning
         * per connection). Anything else (a decoder's failure) goes to Vert.x as before.
         */
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof IOException) {
                LOG.fine(() -> "Connection from %s failed: %s".formatted(ctx.channel().remoteAddress(), cause));
                ctx.close();
                return;
            }
            ctx.fireExceptionCaught(cause);
        }
    }

    /**
     * A target in asterisk or authority form: {@code OPTIONS *} (RFC 9110 section 9.3.7) is about the server as a
     * whole, and gets 204 with the methods its paths accept; anything else is a 400 problem. A body is not read: the
     * connection closes after the answer.
     */
    private static void otherForm(HttpServerRequest request, String allow) {
        var response = request.response();
        boolean options = request.method() == io.vertx.core.http.HttpMethod.OPTIONS && "*".equals(request.uri());
        boolean withBody = Problems.bodyAnnounced(request); // no answer here reads one, arrived or not
        if (withBody) {
            markClosing(request.connection());
            response.putHeader("Connection", "close");
        }
        if (options) {
            response.setStatusCode(204).putHeader("Allow", allow).end();
        } else {
            var problem = Problem.badRequest("The request target must be a path (/v1/robots); only OPTIONS takes *,"
                    + " and no method here takes host:port.");
            response.setStatusCode(problem.status()).setStatusMessage(problem.title())
                    .putHeader("Content-Type", Problems.CONTENT_TYPE)
                    .end(Problems.json(problem, null));
        }
        if (withBody) {
            closeLingering(request.connection());
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
        request.response().setStatusCode(status).setStatusMessage(problem.title())
                .putHeader("Content-Type", Problems.CONTENT_TYPE)
                .putHeader("Connection", "close")
                .end(Problems.json(problem, null))
                .onComplete(written -> closeLingering(request.connection()));
    }

    private static Problem brokenChunk() {
        return Problem.badRequest("The request body is not valid HTTP/1.1 (a malformed chunk).");
    }

    /**
     * A route handler, first for every request with a body: should the body turn out malformed (a chunk size that is
     * not hexadecimal, say), the request gets a 400 problem and its connection closes. Vert.x would fail the whole
     * connection at once, and the client would see it dropped without a status while the access log recorded an
     * answer that was never sent.
     */
    public static void answerBrokenBodies(RoutingContext ctx) {
        if (Problems.bodyPending(ctx.request()) && ctx.request().connection() instanceof ConnectionBase base) {
            if (base.channel().attr(BODY_BROKEN_BEHIND).getAndSet(null) != null) {
                // Found broken while the requests ahead of this one were answered: this is the one.
                Problems.send(ctx, brokenChunk());
                return;
            }
            Context context = Vertx.currentContext();
            var pending = base.channel().attr(BROKEN_BODY);
            pending.set(() -> context.runOnContext(later -> Problems.send(ctx, brokenChunk())));
            ctx.addEndHandler(ended -> pending.set(null));
        }
        ctx.next();
    }

    /**
     * A route handler, first for every request (after admission, whose slot must be free by the time the client sees
     * the connection close): the answer to a request whose body no handler read (a route that reads none, a GET or
     * DELETE sent with one, a refusal before the body) closes its connection, whether that body had arrived by then
     * or not. Vert.x would otherwise read and throw away the rest of the body after the answer, past the deadline,
     * however slowly it came; and one that came in the same packet as the head kept the connection open.
     */
    public static void closeAfterUnreadBody(RoutingContext ctx) {
        var request = ctx.request();
        ctx.addHeadersEndHandler(head -> {
            if (Problems.bodyUnread(ctx)) {
                markClosing(request.connection());
                ctx.response().putHeader(HttpHeaderNames.CONNECTION.toString(), "close");
            }
        });
        ctx.addEndHandler(ended -> {
            if (Problems.bodyUnread(ctx)) {
                // Behind the answer, which Vert.x writes first, and after the other end handlers (the admission
                // slot's): a client that sees the connection close may count on the slot being free.
                ctx.vertx().runOnContext(later -> closeLingering(request.connection()));
            }
        });
        ctx.next();
    }

    /**
     * Marks {@code connection} as closing, at once, as an answer that says {@code Connection: close} is written: a
     * request already read behind it (pipelined) is handed over by Vert.x as that answer completes, before any later
     * close could run, and must not be served.
     */
    static void markClosing(HttpConnection connection) {
        if (connection instanceof ConnectionBase base) {
            base.channel().attr(CLOSING).set(Boolean.TRUE);
        }
    }

    private static boolean isClosing(HttpConnection connection) {
        return connection instanceof ConnectionBase base && base.channel().hasAttr(CLOSING)
                && base.channel().attr(CLOSING).get() != null;
    }

    /**
     * Closes {@code connection}, whose request's body is still arriving, once its answer is out, without the client
     * losing that answer. A socket closed with unread bytes in it is reset by the kernel, and a reset makes the
     * client's kernel throw away what it has not read yet: a client still sending its body (a 413, a 401) saw its
     * connection reset and never the answer. So, as RFC 9112 section 9.6 asks, the answer is flushed, the sending side
     * shut (the client reads the answer, then its end), what still arrives is read and thrown away before any decoder
     * sees it, and the connection closes when the client closes its side or after {@link #LINGER_MS}, whichever comes
     * first. No request is read from it any more, and it holds no admission slot.
     */
    static void closeLingering(HttpConnection connection) {
        markClosing(connection);
        if (!(connection instanceof ConnectionBase base) || !(base.channel() instanceof DuplexChannel)) {
            connection.close();
            return;
        }
        base.channel().eventLoop().execute(() -> lingerThenClose(base.channel()));
    }

    /** {@link #closeLingering} on the channel's event loop. */
    private static void lingerThenClose(Channel channel) {
        channel.attr(CLOSING).set(Boolean.TRUE);
        if (!(channel instanceof DuplexChannel duplex)) {
            channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        if (!channel.isActive() || channel.pipeline().get(Discard.class) != null) {
            return;
        }
        channel.pipeline().addFirst(new Discard());
        channel.config().setAutoRead(true);
        // Shutting the output fails writes still queued: the answer goes out first.
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(flushed -> duplex.shutdownOutput());
        channel.eventLoop().schedule(() -> channel.close(), LINGER_MS, TimeUnit.MILLISECONDS);
    }

    /** Bytes of a connection that is closing: read, so that closing it does not reset it, and thrown away. */
    private static final class Discard extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object message) {
            ReferenceCountUtil.release(message);
        }
    }

    /** A request refused while its headers were decoded. */
    private static final class Refusal extends IllegalArgumentException {
        private final int status;

        Refusal(int status, String detail) {
            super(detail, null);
            this.status = status;
        }
    }

    /**
     * Vert.x's decoder, with the framing checks run once a request's headers are read and before its body is, the
     * head's lines checked for obs-fold as they arrive, and the head's deadline. All of it runs on the connection's
     * event loop.
     */
    private static final class Strict extends VertxHttpRequestDecoder {
        private final long headTimeoutNanos;
        /** Between messages or in a head (not in a body): the bytes that arrive are a head's. */
        private boolean inHead = true;
        private boolean requestLineSeen;
        /** Readable bytes past the reader index already checked: the current line, unfinished, starts there. */
        private int checked;
        /** When the current head's first byte arrived ({@link System#nanoTime}), or 0 while no head is arriving. */
        private long headStarted;
        private ScheduledFuture<?> headTimer;
        /** Refused or timed out: nothing more is read from this connection. */
        private boolean done;
        /**
         * A body found broken: nothing more is read as a request. Not {@link #done}, which the head timer takes for a
         * refusal whose answer went out and closes the connection at: the requests ahead of the broken one may still
         * be answering (a 201 lost), and the broken one's lingering close would be cut short.
         */
        private boolean bodyBroken;

        Strict(HttpServerOptions options, long headTimeoutNanos) {
            super(options);
            this.headTimeoutNanos = headTimeoutNanos;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
            if (done || bodyBroken) {
                buffer.skipBytes(buffer.readableBytes());
                return;
            }
            if (inHead && buffer.isReadable()) {
                if (headStarted == 0) {
                    headStarted = System.nanoTime();
                    if (headTimer == null) {
                        headTimer = ctx.executor().schedule(() -> headDeadline(ctx), headTimeoutNanos,
                                TimeUnit.NANOSECONDS);
                    }
                }
                Refusal malformed = malformedLine(buffer);
                if (malformed != null) {
                    done = true;
                    buffer.skipBytes(buffer.readableBytes());
                    out.add(invalid(malformed));
                    return;
                }
            }
            int before = buffer.readableBytes();
            int from = out.size();
            super.decode(ctx, buffer, out);
            checked = Math.max(0, checked - (before - buffer.readableBytes()));
            for (int i = from; i < out.size(); i++) {
                Object decoded = out.get(i);
                if (decoded instanceof HttpMessage message) {
                    inHead = false; // the head is whole: REQUEST_TIMEOUT_MS covers the rest
                    headStarted = 0;
                    if (message.decoderResult().isFailure()) {
                        // Refused (by the codec: a line or header block too long): the codec skips the rest, and so
                        // must the checks above, or the refused line's tail, arriving in a later read, was refused
                        // again as a request of its own, a second answer and log entry for one request.
                        done = true;
                    }
                }
                if (decoded instanceof LastHttpContent) {
                    inHead = true; // what comes next is the next request's head
                    requestLineSeen = false;
                    checked = 0;
                }
                if (decoded instanceof HttpContent content && !(content instanceof HttpMessage)
                        && content.decoderResult().isFailure()) {
                    // The decoder reads nothing more from this connection: the request whose body this is, the last
                    // one read, is answered (a 400) once those ahead of it are, then the connection closes. Nor do
                    // the checks above: the failure came as a last content, which set inHead, and the rest of a
                    // chunk line too long for the codec, arriving in a later read, was refused as a request line of
                    // its own, a second answer and log entry (a black-box finding).
                    bodyBroken = true;
                    out.remove(i);
                    content.release();
                    brokenBody(ctx);
                    return;
                }
            }
        }

        /**
         * The body of the last request read is broken. Which answer that calls for depends on the requests not yet
         * answered on the connection ({@link HalfClosed} counts them): none, and this one was answered already (a
         * route that reads no body answers at once: /healthz, a 404, a 401), maybe not flushed, so it goes out, then
         * the close (a close at once discarded it, while the access log recorded it); this one only, in progress, and
         * it gets its 400 now; others ahead of it, and it gets its 400 when Vert.x hands it over, after theirs (the
         * 400 went to the request in progress ahead of it, a POST whose robot was created and whose 201 never came).
         */
        private static void brokenBody(ChannelHandlerContext ctx) {
            HalfClosed answers = ctx.pipeline().get(HalfClosed.class);
            int unanswered = answers == null ? 1 : answers.bodyBroken();
            Runnable answer = ctx.channel().attr(BROKEN_BODY).getAndSet(null);
            if (unanswered == 0) {
                // The body may still be arriving: closed at once, the connection was reset, and the client could
                // lose the answer it was sent (a 401 to a chunked body).
                lingerThenClose(ctx.channel());
            } else if (unanswered == 1 && answer != null) {
                answer.run();
            } else {
                ctx.channel().attr(BODY_BROKEN_BEHIND).set(Boolean.TRUE);
            }
        }

        /**
         * The refusal of a request line that is not method, target and version with one space between each, or of a
         * header line that begins with a space or a tab; null when the head so far has neither. Each line is looked
         * at once, when its line feed has arrived; a blank line ends the head, and what follows it is the body, not
         * looked at.
         */
        private Refusal malformedLine(ByteBuf buffer) {
            int start = buffer.readerIndex() + checked;
            int end = buffer.writerIndex();
            while (start < end) {
                int lf = buffer.indexOf(start, end, (byte) '\n');
                if (lf < 0) {
                    break;
                }
                int length = lf - start;
                if (length > 0 && buffer.getByte(lf - 1) == '\r') {
                    length--;
                }
                if (!requestLineSeen) {
                    requestLineSeen = length > 0; // empty lines before the request line are skipped (RFC 9112 2.2)
                    if (requestLineSeen && !wellSpaced(buffer, start, length)) {
                        return new Refusal(400, "The request line must be the method, the target and the version, "
                                + "with one space between each (RFC 9112 section 3).");
                    }
                } else if (length == 0) {
                    start = end; // the end of the head
                    break;
                } else if (buffer.getByte(start) == ' ' || buffer.getByte(start) == '\t') {
                    return new Refusal(400, "A header line begins with white space (obs-fold, RFC 9112 section 5.2); "
                            + "send each header on a line of its own.");
                }
                start = lf + 1;
            }
            checked = start - buffer.readerIndex();
            return null;
        }

        /**
         * Whether a request line is {@code method SP request-target SP HTTP-version} (RFC 9112 section 3): exactly two
         * spaces, neither at an end nor next to the other, and no other white space. Netty's decoder splits the line
         * on any run of white space, and served {@code GET  /v1/robots/3 HTTP/1.1}, which a proxy in front may have
         * read otherwise.
         */
        private static boolean wellSpaced(ByteBuf buffer, int start, int length) {
            int spaces = 0;
            byte previous = ' ';
            for (int i = start; i < start + length; i++) {
                byte b = buffer.getByte(i);
                if (b == '\t' || b == '\r' || b == 0x0B || b == '\f' || (b == ' ' && previous == ' ')) {
                    return false;
                }
                if (b == ' ') {
                    spaces++;
                }
                previous = b;
            }
            return spaces == 2 && previous != ' ';
        }

        /**
         * The connection's one head timer: a head still arriving past its deadline is answered 408 (a request that
         * Vert.x hands to {@link #refuse}, after any answer still being written) and nothing more is read; else the
         * timer is set again for the head now arriving, or left unset until the next one begins.
         */
        private void headDeadline(ChannelHandlerContext ctx) {
            headTimer = null;
            if (!ctx.channel().isActive()) {
                return;
            }
            if (done) {
                ctx.close(); // the 408 was not taken up (a connection Vert.x was already closing): close it anyway
                return;
            }
            if (headStarted == 0) {
                return;
            }
            long left = headStarted + headTimeoutNanos - System.nanoTime();
            if (left > 0) {
                headTimer = ctx.executor().schedule(() -> headDeadline(ctx), left, TimeUnit.NANOSECONDS);
                return;
            }
            done = true;
            ctx.fireChannelRead(invalid(new Refusal(408, "The request's line and headers did not arrive within %d ms;"
                    .formatted(TimeUnit.NANOSECONDS.toMillis(headTimeoutNanos)) + " send them at once.")));
            // Vert.x holds back what is written during a read until the read completes. Fired from this timer, the
            // 408 is a read of its own: without its end, nothing flushed the answer of a head that stopped arriving,
            // and the client heard nothing until the close below, at twice the timeout.
            ctx.fireChannelReadComplete();
            headTimer = ctx.executor().schedule(() -> headDeadline(ctx), headTimeoutNanos, TimeUnit.NANOSECONDS);
        }

        /** Whether a Connection line lists "close" among other options, where no line is "close" alone. */
        private static boolean closeInList(List<String> lines) {
            boolean listed = false;
            for (String line : lines) {
                for (String option : line.split(",")) {
                    if (option.strip().equalsIgnoreCase("close")) {
                        if (line.strip().equalsIgnoreCase("close")) {
                            return false; // Vert.x sees this one already
                        }
                        listed = true;
                    }
                }
            }
            return listed;
        }

        /** A request that stands for bytes refused: Vert.x gives it to the invalid request handler. */
        private static DefaultFullHttpRequest invalid(Refusal refusal) {
            var request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
            request.setDecoderResult(DecoderResult.failure(refusal));
            return request;
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            if (headTimer != null) {
                headTimer.cancel(false);
                headTimer = null;
            }
            super.channelInactive(ctx);
        }

        /**
         * What stands for a request whose line could not be read (too long, malformed): Netty makes it HTTP/1.0, and
         * the answer's status line said so to an HTTP/1.1 client. Its version is unknown, so the answer is in the
         * server's own, HTTP/1.1 (RFC 9112 section 2.3); a request whose line was read keeps its version (a 431 to an
         * HTTP/1.0 request says HTTP/1.0).
         */
        @Override
        protected HttpMessage createInvalidMessage() {
            HttpMessage message = super.createInvalidMessage();
            message.setProtocolVersion(HttpVersion.HTTP_1_1);
            return message;
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpMessage message) {
            HttpVersion version = message.protocolVersion();
            // Netty answers its own constants only for "HTTP/1.1" and "HTTP/1.0" spelled exactly, and otherwise makes a
            // version of its own with the name in capitals ("http/1.1", "FOO/1.1"), which Vert.x, comparing with the
            // constants, answers with a bare 501. The name is case-sensitive (RFC 9112, 2.3): such a request is a 400.
            if (version != HttpVersion.HTTP_1_1 && version != HttpVersion.HTTP_1_0) {
                message.setProtocolVersion(HttpVersion.HTTP_1_1); // the version of the answer's status line
                if (!version.protocolName().equals("HTTP") || (version.majorVersion() == 1
                        && version.minorVersion() <= 1)) {
                    throw new Refusal(400, "The request line must end in HTTP/1.1 or HTTP/1.0, spelled so.");
                }
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
                // HTTP/1.0 has no transfer codings: a front end that speaks it sees no body here, where the chunks and
                // what follows them would be read as a body (RFC 9112 section 6.1: the framing is faulty).
                if (message.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
                    throw new Refusal(400, "An HTTP/1.0 request cannot carry Transfer-Encoding; send Content-Length.");
                }
            }
            int hosts = headers.getAll(HttpHeaderNames.HOST).size();
            if (hosts > 1) {
                throw new Refusal(400, "The request has more than one Host header.");
            }
            if (hosts == 0 && message.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
                throw new Refusal(400, "An HTTP/1.1 request needs a Host header.");
            }
            // One rule for both spellings of the authority, before Vert.x reads either (Authorities).
            String badHost = hosts == 1 ? Authorities.problemWithHost(headers.get(HttpHeaderNames.HOST)) : null;
            if (badHost != null) {
                throw new Refusal(400, badHost);
            }
            if (message instanceof HttpRequest request && Authorities.absolute(request.uri())) {
                String badTarget = Authorities.problemWithAbsolute(request.uri());
                if (badTarget != null) {
                    throw new Refusal(400, badTarget);
                }
            }
            if (headers.getAll(HttpHeaderNames.AUTHORIZATION).size() > 1) {
                throw new Refusal(400, "The request has more than one Authorization header.");
            }
            if (closeInList(headers.getAll(HttpHeaderNames.CONNECTION))) {
                // Vert.x compares each Connection line whole with "close": "keep-alive, close" kept the connection
                // open and served what was pipelined behind it (RFC 9112 section 9.6: close after the answer, and
                // process nothing more). A line of its own says it as Vert.x reads it.
                headers.add(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
            List<String> expectations = headers.getAll(HttpHeaderNames.EXPECT);
            if (expectations.size() > 1) {
                // One field, as RFC 9110 section 5.3 makes of several lines: Vert.x Web's BodyHandler (and the routes
                // that take no body) read the first line only, so "Expect: 100-continue" then "Expect: foo" got a 100
                // and the write was carried out, where one line "100-continue, foo" is a 417.
                headers.set(HttpHeaderNames.EXPECT, String.join(", ", expectations));
            }
            return super.isContentAlwaysEmpty(message);
        }
    }
}
