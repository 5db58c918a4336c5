package dev.robots.http;

import io.netty.channel.Channel;
import io.netty.channel.ServerChannel;
import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The listening sockets of an instance's servers, so that a shutdown can stop accepting before it stops the servers.
 * Vert.x shuts a server down by first taking its event loop out of the set that accepted connections are handed to,
 * and closes the listening socket only once the set is empty, on the acceptor's own thread: a connection accepted in
 * between finds no event loop, and Netty logs "Failed to register an accepted channel" with a stack trace (seen under
 * load at each SIGTERM). Closed here first, the socket accepts nothing more, and the kernel refuses new connections,
 * as it would a moment later anyway.
 *
 * <p>Vert.x does not expose the socket: it is learnt from the first connection each server accepts (the parent of
 * that connection's channel). A server that never accepted one has none recorded, and none in flight to race with.
 */
public final class Listeners {
    private final Set<Channel> sockets = ConcurrentHashMap.newKeySet();

    /** Notes the listening socket that accepted {@code connection}. */
    void accepted(Channel connection) {
        if (connection.parent() instanceof ServerChannel socket && !sockets.contains(socket)) {
            sockets.add(socket);
        }
    }

    /**
     * Closes every listening socket noted; succeeds once they are closed (a failure to close is no reason to stop) and
     * every connection accepted before has been handed to a server. A connection accepted just before the close is
     * still on its way: its registration is a task queued on one of {@code loops}, and it looks for a server only when
     * that task runs. Run after the servers began to stop, it found none ("Failed to initialize a channel",
     * ArrayIndexOutOfBoundsException from Vert.x's ServerChannelLoadBalancer, once in a few runs of
     * StopWhileAcceptingTest on io_uring). So each loop also runs one task queued after the close: behind any such
     * registration.
     */
    public Future<Void> stopAccepting(Iterable<? extends EventExecutor> loops) {
        List<Future<Void>> closed = sockets.stream().map(socket -> {
            Promise<Void> promise = Promise.promise();
            socket.close().addListener(done -> promise.complete());
            return promise.future();
        }).toList();
        return Future.join(closed).compose(allClosed -> {
            List<Future<Void>> turns = new ArrayList<>();
            for (EventExecutor loop : loops) {
                Promise<Void> turn = Promise.promise();
                loop.execute(turn::complete);
                turns.add(turn.future());
            }
            return Future.join(turns);
        }).mapEmpty();
    }
}
