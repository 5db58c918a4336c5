package dev.robots.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.TcpProxy;
import dev.robots.TestDatabase;
import dev.robots.config.Config;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Tuple;
import java.net.URI;
import java.util.HashMap;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL ends a transaction of ours left idle for DB_SOCKET_TIMEOUT_MS, and its row locks with it. An instance
 * that lost the database between two statements of a transaction (a network partition, a frozen proxy) held the
 * rows for as long as that lasted: every other instance's writes to that robot were 503s and its count flushes
 * skipped it (black-box finding: 34 s of 503s on a healthy instance).
 */
class IdleTransactionTest {
    @Test
    void a_transaction_left_idle_loses_its_row_locks_after_the_socket_timeout() throws Exception {
        Vertx vertx = Vertx.vertx();
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql");
                var proxy = new TcpProxy(URI.create(TestDatabase.ADMIN_URL).getPort())) {
            var env = new HashMap<>(database.env());
            env.put("DATABASE_URL", database.url().replaceFirst(":\\d+/", ":" + proxy.port() + "/"));
            env.put("DB_SOCKET_TIMEOUT_MS", "2000");
            Database db = Database.connect(vertx, Config.from(env));
            db.migrate().await();
            db.pool().query("INSERT INTO robots (name) VALUES ('R2-D2')").execute().await();

            var idle = db.pool().getConnection().await();
            idle.begin().await();
            idle.preparedQuery("UPDATE robots SET name = $1 WHERE id = 1").execute(Tuple.of("held")).await();
            // Left idle in its transaction by an instance that can no longer reach the database: what it sends
            // now (its Terminate, once its socket timeout gives the connection up) never arrives.
            proxy.freeze();

            try (var other = database.connect(); var statement = other.createStatement()) {
                statement.execute("SET lock_timeout = '15s'");
                long started = System.nanoTime();
                assertThat(statement.executeUpdate("UPDATE robots SET name = 'C-3PO' WHERE id = 1")).isEqualTo(1);
                // Granted once PostgreSQL ended the idle transaction (after 2 s), not at the 15 s lock timeout.
                assertThat((System.nanoTime() - started) / 1_000_000).isLessThan(12_000);
                var name = statement.executeQuery("SELECT name FROM robots WHERE id = 1");
                name.next();
                assertThat(name.getString(1)).isEqualTo("C-3PO");
            }
            idle.close();
            db.close().await();
        } finally {
            vertx.close().await();
        }
    }
}
