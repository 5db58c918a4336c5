package dev.robots.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.robots.LogCapture;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.uring.IoUringChannelOption;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.transport.Transport;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The event loops' transport: which one {@code IO_TRANSPORT} picks, and that io_uring's sockets do what the database
 * client needs of them on epoll (TCP_USER_TIMEOUT set in the kernel, Unix domain sockets). Real sockets, real
 * kernel: the option is read back with getsockopt through Netty's channel.
 */
class IoTransportTest {
    @TempDir
    Path dir;

    @Test
    void auto_takes_io_uring_where_the_kernel_allows_it_and_epoll_where_not() {
        var config = Config.from(Map.of());
        assertThat(config.ioTransport()).isEqualTo(IoTransport.AUTO);
        Transport expected = IoTransport.URING.available() ? IoTransport.URING : Transport.EPOLL;
        assertThat(IoTransport.AUTO.select()).isSameAs(expected);
        assertThat(Config.from(Map.of("IO_TRANSPORT", "EPOLL")).ioTransport().select()).isSameAs(Transport.EPOLL);
        assertThat(Config.from(Map.of("IO_TRANSPORT", "io_uring")).ioTransport()).isEqualTo(IoTransport.IO_URING);
        assertThatThrownBy(() -> Config.from(Map.of("IO_TRANSPORT", "nio")))
                .isInstanceOf(ConfigurationError.class)
                .hasMessage("IO_TRANSPORT must be one of auto, io_uring, epoll, not 'nio'");
    }

    @Test
    void auto_falls_back_to_epoll_when_io_uring_passes_its_probe_but_its_event_loops_cannot_be_made()
            throws Exception {
        // As on Linux before 5.12 under a 64 KiB RLIMIT_MEMLOCK: the probe's small ring is made, the loops' are not.
        Transport refusing = new Transport() {
            @Override
            public String name() {
                return "io_uring";
            }

            @Override
            public boolean available() {
                return true;
            }

            @Override
            public Throwable unavailabilityCause() {
                return null;
            }

            @Override
            public io.vertx.core.spi.transport.Transport implementation() {
                var real = Transport.EPOLL.implementation();
                return (io.vertx.core.spi.transport.Transport) Proxy.newProxyInstance(getClass().getClassLoader(),
                        new Class<?>[] {io.vertx.core.spi.transport.Transport.class}, (proxy, method, args) -> {
                            if (method.getName().equals("ioHandlerFactory")) {
                                return (IoHandlerFactory) executor -> {
                                    throw new IllegalStateException("failed to create io_uring ring fd: ENOMEM");
                                };
                            }
                            if (method.getName().equals("eventLoopGroup")) {
                                // The SPI's own default, which asks this proxy for its factory (as io_uring's does).
                                return InvocationHandler.invokeDefault(proxy, method, args);
                            }
                            return method.invoke(real, args);
                        });
            }
        };
        Function<Transport, Vertx> build = transport -> Vertx.builder().withTransport(transport).build();
        try (var logs = new LogCapture()) {
            var built = IoTransport.AUTO.build(refusing, build);
            try {
                assertThat(built.transport()).isSameAs(Transport.EPOLL);
                assertThat(built.value().isNativeTransportEnabled()).isTrue();
                assertThat(built.value().setTimer(1, id -> { })).isNotNegative(); // its event loops run
            } finally {
                built.value().close().await(10, TimeUnit.SECONDS);
            }
            assertThat(logs.lines()).singleElement().asString()
                    .startsWith("io_uring passed its probe but its event loops could not be made")
                    .contains("ENOMEM").endsWith("on epoll instead");
        }
        // Asked for by name, it is not replaced: the start stops with the kernel's refusal.
        assertThatThrownBy(() -> IoTransport.IO_URING.build(refusing, build)).hasRootCauseMessage(
                "failed to create io_uring ring fd: ENOMEM");
    }

    @Test
    void io_uring_sets_tcp_user_timeout_on_client_sockets_as_epoll_does() throws Exception {
        assumeUring();
        assertThat(userTimeoutOfAClientSocket(IoTransport.URING)).isEqualTo(1234);
        assertThat(userTimeoutOfAClientSocket(Transport.EPOLL)).isEqualTo(1234);
    }

    @Test
    void io_uring_connects_to_a_unix_domain_socket() throws Exception {
        assumeUring();
        Vertx vertx = Vertx.builder().withTransport(IoTransport.URING).build();
        try {
            var path = dir.resolve("echo.sock");
            NetServer server = vertx.createNetServer()
                    .connectHandler(socket -> socket.handler(socket::write))
                    .listen(SocketAddress.domainSocketAddress(path.toString()))
                    .await(10, TimeUnit.SECONDS);
            assertThat(Files.exists(path)).isTrue();
            // Held to the end and closed: Vert.x shuts down a client that is no longer reachable (a Cleaner), and its
            // connections with it. This test failed twice in CI with "Connection was closed", which a collection
            // between connect and the echo would explain; 300 runs here, and 10 with forced collections, did not
            // reproduce it.
            var client = vertx.createNetClient();
            NetSocket socket = client.connect(SocketAddress.domainSocketAddress(path.toString()))
                    .await(10, TimeUnit.SECONDS);
            var echoed = new java.util.concurrent.CompletableFuture<Buffer>();
            socket.handler(echoed::complete);
            socket.write("ping").await(10, TimeUnit.SECONDS);
            assertThat(echoed.get(10, TimeUnit.SECONDS).toString()).isEqualTo("ping");
            socket.close().await(10, TimeUnit.SECONDS);
            client.close().await(10, TimeUnit.SECONDS);
            server.close().await(10, TimeUnit.SECONDS);
        } finally {
            vertx.close().await(10, TimeUnit.SECONDS);
        }
    }

    private static void assumeUring() {
        Assumptions.assumeTrue(IoTransport.URING.available(), () -> "io_uring unavailable: "
                + IoTransport.URING.unavailabilityCause());
    }

    private static int userTimeoutOfAClientSocket(Transport transport) throws Exception {
        Vertx vertx = Vertx.builder().withTransport(transport).build();
        try {
            NetServer server = vertx.createNetServer().connectHandler(socket -> { })
                    .listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
            var options = new NetClientOptions();
            options.setTcpUserTimeout(1234);
            var client = vertx.createNetClient(options); // held to the end, as above
            NetSocket socket = client.connect(server.actualPort(), "127.0.0.1").await(10, TimeUnit.SECONDS);
            var channel = ((NetSocketInternal) socket).channelHandlerContext().channel();
            int timeout = transport == Transport.EPOLL
                    ? channel.config().getOption(EpollChannelOption.TCP_USER_TIMEOUT)
                    : channel.config().getOption(IoUringChannelOption.TCP_USER_TIMEOUT);
            socket.close().await(10, TimeUnit.SECONDS);
            client.close().await(10, TimeUnit.SECONDS);
            server.close().await(10, TimeUnit.SECONDS);
            return timeout;
        } finally {
            vertx.close().await(10, TimeUnit.SECONDS);
        }
    }
}
