package dev.robots.background;

import dev.robots.http.RequestIds;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs tasks after a response's last byte is written, in the order they were added. Unlike Starlette, a failing
 * task does not stop the ones after it: each failure is logged once with the request's id. {@link #drain} waits for
 * the tasks still queued or running, for a graceful shutdown.
 */
public final class BackgroundTasks {
    private static final Logger LOG = Logger.getLogger(BackgroundTasks.class.getName());

    private static final int ATTACHED = 0;
    private static final int RUNNING = 1;
    private static final int DROPPED = 2;

    private final Vertx vertx;
    private final AtomicInteger pending = new AtomicInteger();
    private Promise<Void> drained;

    public BackgroundTasks(Vertx vertx) {
        this.vertx = vertx;
    }

    /**
     * Runs {@code tasks} once the response of {@code ctx} has been written. They count as pending from now on, so that
     * a shutdown waits for them even while the response is still being written; they are dropped (and counted off)
     * when the response fails instead (the client went away before it was written).
     */
    public void after(RoutingContext ctx, BackgroundTask... tasks) {
        if (ctx.response().ended()) {
            return; // answered already (a timeout's 503): there is no response left to follow
        }
        List<BackgroundTask> ordered = List.of(tasks);
        var state = new AtomicInteger(ATTACHED);
        pending.addAndGet(ordered.size());
        ctx.addBodyEndHandler(written -> {
            if (state.compareAndSet(ATTACHED, RUNNING)) {
                Future<Void> chain = Future.succeededFuture();
                for (BackgroundTask task : ordered) {
                    chain = chain.transform(previous -> runOne(ctx, task));
                }
            }
        });
        ctx.addEndHandler(ended -> {
            if (ended.failed() && state.compareAndSet(ATTACHED, DROPPED)) {
                for (int i = 0; i < ordered.size(); i++) {
                    finished();
                }
            }
        });
    }

    /** Wraps blocking work so that it runs on a worker thread and never on the event loop. */
    public BackgroundTask blocking(String name, Callable<?> work) {
        return BackgroundTask.of(name, () -> vertx.executeBlocking(work, false));
    }

    private Future<Void> runOne(RoutingContext ctx, BackgroundTask task) {
        Future<?> running;
        try {
            running = task.run();
        } catch (RuntimeException e) {
            running = Future.failedFuture(e);
        }
        return running.<Void>transform(result -> {
            if (result.failed()) {
                LOG.log(Level.WARNING, "Background task '%s' failed [request %s]"
                        .formatted(task.name(), RequestIds.of(ctx)), result.cause());
            }
            finished();
            return Future.succeededFuture();
        });
    }

    private synchronized void finished() {
        if (pending.decrementAndGet() == 0 && drained != null) {
            drained.tryComplete();
        }
    }

    /** Tasks attached to a response and not finished yet (waiting for the response, queued or running). */
    public int pending() {
        return pending.get();
    }

    /**
     * Completes when no task is pending, or fails after {@code deadline} saying how many were left. Call it after the
     * HTTP server has stopped taking requests, so that no new tasks arrive.
     */
    public synchronized Future<Void> drain(Duration deadline) {
        if (pending.get() == 0) {
            return Future.succeededFuture();
        }
        if (drained == null) {
            drained = Promise.promise();
            long timer = vertx.setTimer(Math.max(1, deadline.toMillis()), t -> drained.tryFail(
                    "%d background tasks were still pending after %d ms".formatted(pending.get(), deadline.toMillis())));
            drained.future().onComplete(done -> vertx.cancelTimer(timer));
        }
        return drained.future();
    }
}
