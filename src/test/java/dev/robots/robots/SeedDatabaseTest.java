package dev.robots.robots;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import dev.robots.TestDatabase;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The service adopts a database that the seed app created, with its rows and its id sequence. */
class SeedDatabaseTest {
    private TestDatabase.Postgres database;

    @BeforeEach
    void createDatabase() {
        database = (TestDatabase.Postgres) TestDatabase.create("postgresql");
    }

    @AfterEach
    void dropDatabase() {
        database.close();
    }

    @ParameterizedTest(name = "seed table {0} the count column")
    @ValueSource(booleans = {true, false})
    void serves_the_seeds_rows_adds_count_and_continues_the_ids(boolean withCount) throws SQLException {
        try (Connection c = database.connect()) {
            // The seed's schema: part 1 columns, then part 3's ALTER TABLE, as the article did it by hand.
            c.createStatement().execute("""
                    CREATE TABLE robots (
                        id serial PRIMARY KEY,
                        name varchar(255) NOT NULL,
                        created_at timestamp with time zone NOT NULL DEFAULT now()
                    )""");
            if (withCount) {
                c.createStatement().execute("ALTER TABLE robots ADD COLUMN count bigint default 0");
            }
            c.createStatement().execute("INSERT INTO robots (name) VALUES ('Robo'), ('Robo-2'), ('Robo-3')");
            if (withCount) {
                c.createStatement().execute("UPDATE robots SET count = 7 WHERE id = 1");
                c.createStatement().execute("UPDATE robots SET count = NULL WHERE id = 2");
            }
        }

        try (var service = RunningService.start(database)) {
            var robo = new JsonObject(service.get("/v1/robots/1").body());
            assertThat(robo.getString("message")).isEqualTo("Robot is Robo.");
            assertThat(robo.getLong("count")).isEqualTo(withCount ? 7 : 0);
            assertThat(new JsonObject(service.get("/v1/robots/2").body()).getLong("count")).isZero();

            assertThat(service.create("New")).isEqualTo(4);
            assertThat(service.get("/v1/robots/9223372036854775807").statusCode()).isEqualTo(404);
        }

        try (Connection c = database.connect()) {
            var columns = c.createStatement().executeQuery("""
                    SELECT column_name, data_type, is_nullable FROM information_schema.columns
                    WHERE table_name = 'robots' AND column_name IN ('id', 'count') ORDER BY column_name""");
            columns.next();
            assertThat(columns.getString("data_type")).isEqualTo("bigint");
            assertThat(columns.getString("is_nullable")).isEqualTo("NO");
            columns.next();
            assertThat(columns.getString("column_name")).isEqualTo("id");
            assertThat(columns.getString("data_type")).isEqualTo("bigint");
        }
    }
}
