package dev.robots.config;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.InternetProtocolFamily;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringDomainSocketChannel;
import io.netty.channel.uring.IoUringServerDomainSocketChannel;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.impl.transports.IoUringTransport;
import io.vertx.core.net.ClientOptionsBase;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.transport.Transport;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * {@code IO_TRANSPORT}: how the event loops talk to the kernel, for the HTTP server and the database client alike.
 *
 * <p>{@code io_uring} submits a turn's reads and writes in one system call and reaps their completions from shared
 * memory, where epoll makes a {@code read} and a {@code writev} per request besides its {@code epoll_wait}. On a
 * machine where every system call costs a TLB flush (Meltdown's page-table isolation, as on session 12's bench
 * machine) the 100-robot load cost the JVM 20-23 µs of CPU a request on io_uring against 29-30 on epoll (bench/README.md,
 * "Session 12"). Sandboxes may refuse it: gVisor (Cloud Run's first-generation environment, the one this service's
 * manifest gets), Docker's and containerd's default seccomp profiles (GKE Autopilot, a pod with
 * {@code seccompProfile: RuntimeDefault}). {@code auto} therefore takes io_uring where the kernel lets this process
 * make a ring, epoll where not, and the JDK's own transport off Linux; the start's log line says which.
 */
public enum IoTransport {
    AUTO, IO_URING, EPOLL;

    private static final Logger LOG = Logger.getLogger(IoTransport.class.getName());

    /** The value of {@code IO_TRANSPORT}: {@code auto}, {@code io_uring} or {@code epoll}. */
    public static IoTransport of(String setting) {
        return valueOf(setting.toUpperCase(java.util.Locale.ROOT));
    }

    /**
     * The transport to build Vert.x with. One named outright that this machine does not offer stops the start, with
     * the reason (the kernel's refusal to make a ring, say): an operator who asked for it is told, not given another.
     */
    public Transport select() {
        return switch (this) {
            case IO_URING -> required(URING);
            case EPOLL -> required(Transport.EPOLL);
            case AUTO -> URING.available() ? URING : Transport.EPOLL.available() ? Transport.EPOLL : Transport.NIO;
        };
    }

    /**
     * Builds with {@link #select}'s transport. Under {@code auto}, io_uring whose event loops cannot be made after all
     * gives way to epoll (or the JDK's sockets): availability is probed with one small ring, and an event loop's ring
     * is larger. Where io_uring's memory counts against {@code RLIMIT_MEMLOCK} (Linux before 5.12, a container's
     * default of 64 KiB), the probe passes and the loops' rings fail; the start would stop on every restart. (Vert.x
     * makes its event loops, and so their rings, as it is built; a build that failed leaves only its blocked-thread
     * checker's daemon timer behind.)
     */
    public <T> Built<T> build(Function<Transport, T> build) {
        return build(select(), build);
    }

    <T> Built<T> build(Transport first, Function<Transport, T> build) {
        try {
            return new Built<>(first, build.apply(first));
        } catch (RuntimeException refused) {
            if (this != AUTO || !first.name().equals(URING.name())) {
                throw refused;
            }
            Transport next = Transport.EPOLL.available() ? Transport.EPOLL : Transport.NIO;
            Throwable reason = refused; // Netty's "failed to create a child event loop" wraps the kernel's refusal
            while (reason.getCause() != null) {
                reason = reason.getCause();
            }
            LOG.warning("io_uring passed its probe but its event loops could not be made (%s); on %s instead"
                    .formatted(reason, next.name()));
            return new Built<>(next, build.apply(next));
        }
    }

    /** What {@link #build} made, and on which transport. */
    public record Built<T>(Transport transport, T value) {
    }

    private static Transport required(Transport transport) {
        if (!transport.available()) {
            throw new ConfigurationError("IO_TRANSPORT=%s is not available here (%s); unset it or set auto"
                    .formatted(transport.name(), transport.unavailabilityCause()));
        }
        return transport;
    }

    /** Vert.x's io_uring transport, with what it leaves out that the database client needs (below). */
    static final Transport URING = new Transport() {
        private final UringWithSockets implementation = new UringWithSockets();

        @Override
        public String name() {
            return "io_uring";
        }

        @Override
        public boolean available() {
            return implementation.isAvailable();
        }

        @Override
        public Throwable unavailabilityCause() {
            return implementation.unavailabilityCause();
        }

        @Override
        public io.vertx.core.spi.transport.Transport implementation() {
            return implementation;
        }
    };

    /**
     * Vert.x 5.0's io_uring transport as it is, but for two things Netty's io_uring channels do and Vert.x does not ask
     * of them, which epoll gives this service: Unix domain sockets (Cloud Run reaches Cloud SQL through
     * {@code /cloudsql/INSTANCE}; Vert.x's refuses the address) and {@code TCP_USER_TIMEOUT} on client sockets (Vert.x's
     * drops the option, and a database connection on a lost network path then waited out the kernel's retransmissions,
     * about 15 minutes, instead of {@code DB_SOCKET_TIMEOUT_MS}; Database.transport). Delegation, not a subclass: the
     * domain-socket paths take the SPI's defaults, as Vert.x's epoll transport does.
     */
    static final class UringWithSockets implements io.vertx.core.spi.transport.Transport {
        private final IoUringTransport uring = new IoUringTransport();

        @Override
        public boolean isAvailable() {
            return uring.isAvailable();
        }

        @Override
        public Throwable unavailabilityCause() {
            return uring.unavailabilityCause();
        }

        @Override
        public boolean supportsDomainSockets() {
            return true;
        }

        @Override
        public boolean supportFileRegion() {
            return uring.supportFileRegion();
        }

        @Override
        public java.net.SocketAddress convert(SocketAddress address) {
            return address.isDomainSocket() ? new DomainSocketAddress(address.path()) : uring.convert(address);
        }

        @Override
        public SocketAddress convert(java.net.SocketAddress address) {
            return uring.convert(address);
        }

        @Override
        public IoHandlerFactory ioHandlerFactory() {
            return uring.ioHandlerFactory();
        }

        @Override
        public DatagramChannel datagramChannel() {
            return uring.datagramChannel();
        }

        @Override
        public DatagramChannel datagramChannel(InternetProtocolFamily family) {
            return uring.datagramChannel(family);
        }

        @Override
        public ChannelFactory<? extends Channel> channelFactory(boolean domainSocket) {
            return domainSocket ? IoUringDomainSocketChannel::new : uring.channelFactory(false);
        }

        @Override
        public ChannelFactory<? extends ServerChannel> serverChannelFactory(boolean domainSocket) {
            return domainSocket ? IoUringServerDomainSocketChannel::new : uring.serverChannelFactory(false);
        }

        @Override
        public void configure(DatagramChannel channel, DatagramSocketOptions options) {
            uring.configure(channel, options);
        }

        @Override
        public void configure(ClientOptionsBase options, int connectTimeout, boolean domainSocket,
                Bootstrap bootstrap) {
            if (domainSocket) {
                io.vertx.core.spi.transport.Transport.super.configure(options, connectTimeout, true, bootstrap);
                return;
            }
            uring.configure(options, connectTimeout, false, bootstrap);
            bootstrap.option(IoUringChannelOption.TCP_USER_TIMEOUT, options.getTcpUserTimeout());
        }

        @Override
        public void configure(NetServerOptions options, boolean domainSocket, ServerBootstrap bootstrap) {
            if (domainSocket) {
                io.vertx.core.spi.transport.Transport.super.configure(options, true, bootstrap);
                return;
            }
            uring.configure(options, false, bootstrap);
        }
    }
}
