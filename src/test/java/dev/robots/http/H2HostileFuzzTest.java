package dev.robots.http;

class H2HostileFuzzTest extends HostileFuzzContract {
    H2HostileFuzzTest() {
        super("h2");
    }
}
