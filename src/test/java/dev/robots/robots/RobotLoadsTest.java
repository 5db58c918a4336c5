package dev.robots.robots;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.TestDatabase;
import dev.robots.config.Config;
import dev.robots.db.Database;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Cache misses read in batches, against the real database: one query for what one turn of the loop asked for. */
class RobotLoadsTest {
    private TestDatabase database;
    private Vertx vertx;
    private Database db;
    private RobotRepository repository;
    /** The ids of each query sent, in order. */
    private final List<Collection<Long>> queries = new CopyOnWriteArrayList<>();

    private void open(String kind) {
        database = TestDatabase.create(kind);
        vertx = Vertx.vertx();
        db = Database.connect(vertx, Config.from(database.env()));
        db.migrate().await();
        repository = new RobotRepository(db.pool(), db.dialect());
    }

    @AfterEach
    void stop() {
        if (db != null) {
            db.close().await();
        }
        vertx.close().await();
        database.close();
    }

    private List<Robot> robots(int n) {
        var created = new ArrayList<Robot>();
        for (int i = 0; i < n; i++) {
            created.add(repository.create(db.pool(), "r" + i).await().orElseThrow());
        }
        return created;
    }

    /** The real query, each call recorded; it answers only once {@code release} completes. */
    private Function<Collection<Long>, Future<List<Robot>>> recorded(Future<Void> release) {
        return ids -> {
            queries.add(List.copyOf(ids));
            return repository.findAll(ids).compose(found -> release.map(found));
        };
    }

    /** Runs {@code asks} in one task on {@code context}, as the requests of one turn of its event loop. */
    private static <T> T onLoop(Context context, Supplier<T> asks) {
        Promise<T> result = Promise.promise();
        context.runOnContext(v -> result.complete(asks.get()));
        return result.future().await();
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgresql"})
    void what_one_turn_asks_for_goes_in_queries_of_at_most_a_batch(String kind) {
        open(kind);
        List<Robot> existing = robots(300);
        var loads = new RobotLoads(recorded(Future.succeededFuture()), 8);
        long missingFrom = existing.getLast().id() + 1_000;
        Context context = vertx.getOrCreateContext();

        List<Future<Optional<Robot>>> answers = onLoop(context, () -> {
            var asked = new ArrayList<Future<Optional<Robot>>>();
            existing.forEach(robot -> asked.add(loads.find(robot.id())));
            for (long id = missingFrom; id < missingFrom + 300; id++) {
                asked.add(loads.find(id));
            }
            return asked;
        });
        Future.all(answers).await();

        assertThat(queries).extracting(Collection::size).containsExactlyInAnyOrder(256, 256, 88);
        for (int i = 0; i < existing.size(); i++) {
            assertThat(answers.get(i).result()).contains(existing.get(i));
        }
        assertThat(answers.subList(existing.size(), answers.size()))
                .allSatisfy(answer -> assertThat(answer.result()).isEmpty());
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgresql"})
    void asks_made_while_every_connection_is_busy_wait_and_go_together(String kind) {
        open(kind);
        List<Robot> existing = robots(30);
        Promise<Void> firstQueryMayAnswer = Promise.promise();
        var loads = new RobotLoads(recorded(firstQueryMayAnswer.future()), 1);
        Context context = vertx.getOrCreateContext();

        var first = onLoop(context, () -> loads.find(existing.get(0).id()));
        var later = new ArrayList<Future<Optional<Robot>>>();
        for (Robot robot : existing.subList(1, existing.size())) { // each in a turn of its own
            later.add(onLoop(context, () -> loads.find(robot.id())));
        }
        // Asked again while waiting: the same answer, not a second place in the batch.
        later.add(onLoop(context, () -> loads.find(existing.get(1).id())));
        assertThat(queries).hasSize(1);
        firstQueryMayAnswer.complete();
        Future.all(later).await();

        assertThat(first.await()).contains(existing.get(0));
        assertThat(queries).extracting(Collection::size).containsExactly(1, 29);
        for (int i = 0; i < existing.size() - 1; i++) {
            assertThat(later.get(i).result()).contains(existing.get(i + 1));
        }
        assertThat(later.getLast().result()).contains(existing.get(1));
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgresql"})
    void a_failed_query_fails_every_ask_in_it_and_the_next_turn_starts_afresh(String kind) {
        open(kind);
        List<Robot> existing = robots(3);
        var failing = new boolean[] {true};
        var loads = new RobotLoads(ids -> {
            queries.add(List.copyOf(ids));
            return failing[0] ? Future.failedFuture(new IllegalStateException("database down"))
                    : repository.findAll(ids);
        }, 4);
        Context context = vertx.getOrCreateContext();

        List<Future<Optional<Robot>>> failed = onLoop(context, () -> existing.stream().map(r -> loads.find(r.id())).toList());
        assertThat(Future.join(failed).toCompletionStage().handle((ok, e) -> e).toCompletableFuture().join()).isNotNull();
        assertThat(failed).allSatisfy(answer -> assertThat(answer.cause()).hasMessage("database down"));

        failing[0] = false;
        List<Future<Optional<Robot>>> retried = onLoop(context, () -> existing.stream().map(r -> loads.find(r.id())).toList());
        Future.all(retried).await();
        assertThat(retried.stream().map(Future::result)).containsExactly(
                Optional.of(existing.get(0)), Optional.of(existing.get(1)), Optional.of(existing.get(2)));
        assertThat(queries).hasSize(2);
    }
}
