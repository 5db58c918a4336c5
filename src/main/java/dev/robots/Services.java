package dev.robots;

import dev.robots.background.BackgroundTasks;
import dev.robots.config.Config;
import dev.robots.counting.ReferenceCounter;
import dev.robots.db.Database;
import dev.robots.http.BearerAuth;
import dev.robots.http.Guards;
import dev.robots.http.Listeners;
import dev.robots.observability.Metrics;
import dev.robots.robots.RobotCache;
import java.util.function.BooleanSupplier;

/**
 * What every event loop's HTTP server shares with the others: made once by {@link Application}, which owns and stops
 * each of them; a server only uses them.
 *
 * @param repairQueued tells this instance's repair worker that a repair was queued (after its 202 is written)
 * @param shuttingDown true from the moment a graceful stop has begun (readiness fails)
 * @param listeners the servers' listening sockets, which the stop closes first
 */
record Services(
        Config config,
        Database database,
        Metrics metrics,
        Guards guards,
        BearerAuth auth,
        BackgroundTasks background,
        ReferenceCounter references,
        RobotCache cache,
        Runnable repairQueued,
        BooleanSupplier shuttingDown,
        Listeners listeners) {
}
