package dev.robots.http;

class H2WriteGuardTest extends WriteGuardContract {
    H2WriteGuardTest() {
        super("h2");
    }
}
