package dev.robots.counting;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.Load;
import dev.robots.RunningService;
import dev.robots.TcpProxy;
import dev.robots.TestDatabase;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/** PostgreSQL goes away for a few seconds under load, then comes back. */
class DatabaseOutageTest {

    @Test
    void during_an_outage_requests_get_fast_503s_and_afterwards_every_200_is_counted_once() throws Exception {
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql");
                var proxy = new TcpProxy(URI.create(TestDatabase.ADMIN_URL).getPort())) {
            String viaProxy = database.url().replaceFirst(":\\d+/", ":" + proxy.port() + "/");
            try (var service = RunningService.start(database,
                    Map.of("DATABASE_URL", viaProxy, "COUNT_FLUSH_MS", "200"))) {
                var ids = new ArrayList<Long>();
                for (int i = 0; i < 5; i++) {
                    ids.add(service.create("outage-" + i));
                }

                var load = new Load();
                try (var background = Executors.newVirtualThreadPerTaskExecutor(); var stopper = load.stopper()) {
                    var running = background.submit(() -> load.run(List.of(service.uri("/")), ids, 1_000_000, 16));
                    Thread.sleep(1_000);
                    long okBeforeCut = load.ok();

                    proxy.cut();
                    Thread.sleep(300);
                    long started = System.nanoTime();
                    var during = service.get("/v1/robots/" + ids.getFirst());
                    long millis = (System.nanoTime() - started) / 1_000_000;
                    assertThat(during.statusCode()).isEqualTo(503);
                    assertThat(during.headers().firstValue("Retry-After")).isPresent();
                    assertThat(millis).as("time to a 503").isLessThan(2_000);
                    assertThat(service.get("/readyz").statusCode()).isEqualTo(503);
                    Thread.sleep(3_000);

                    proxy.restore();
                    Thread.sleep(3_000);
                    load.stop();
                    running.get();
                    assertThat(okBeforeCut).isPositive();
                    assertThat(load.status(503)).isPositive();
                    assertThat(load.status(500)).isZero();
                }
                assertThat(service.get("/readyz").statusCode()).isEqualTo(200);

                service.awaitFlushed();
                for (long id : ids) {
                    assertThat(service.flushedCount(id)).as("robot %d", id).isEqualTo(load.ok(id));
                }
            }
        }
    }
}
