package dev.robots.background;

import io.vertx.core.Future;

/**
 * Work to do after a response has been sent, like Starlette's {@code BackgroundTask}. A task runs on the request's
 * event loop, so it must not block: it returns a future for asynchronous work, and blocking work is wrapped with
 * {@link BackgroundTasks#blocking}.
 */
public interface BackgroundTask {
    /** A short name for logs, e.g. "count reference to robot 42". */
    String name();

    Future<?> run();

    static BackgroundTask of(String name, java.util.function.Supplier<Future<?>> work) {
        return new BackgroundTask() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Future<?> run() {
                return work.get();
            }
        };
    }
}
