package dev.robots.http;

class PostgresWriteGuardTest extends WriteGuardContract {
    PostgresWriteGuardTest() {
        super("postgresql");
    }
}
