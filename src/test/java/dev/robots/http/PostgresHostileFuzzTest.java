package dev.robots.http;

class PostgresHostileFuzzTest extends HostileFuzzContract {
    PostgresHostileFuzzTest() {
        super("postgresql");
    }
}
