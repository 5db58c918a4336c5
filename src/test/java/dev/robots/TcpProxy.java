package dev.robots;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A TCP proxy on 127.0.0.1 between the service and PostgreSQL, to stage database faults. {@link #cut} closes every
 * connection and refuses new ones (a database that is down). {@link #blackhole} keeps every connection open but
 * swallows all bytes, and accepts new connections that never hear back (a database that stops answering: a frozen
 * server, a lost network path). Connections swallowed stay silent for ever, even after {@link #restore}: their
 * protocol state is lost, and only the client can give them up. {@link #reset} answers whatever the service sends
 * next with a TCP reset (a backend killed under a query, pg_terminate_backend, a middlebox that drops state).
 */
public final class TcpProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final int targetPort;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private volatile Mode mode = Mode.FORWARD;
    private volatile boolean frozen;
    /** Database sides of connections the service gave up while frozen: closed when the proxy closes. */
    private final Set<Socket> held = ConcurrentHashMap.newKeySet();

    private enum Mode { FORWARD, CUT, BLACKHOLE, RESET }

    /** One client connection and, unless it was accepted into a black hole, its server connection. */
    private static final class Link {
        final Socket client;
        final Socket server;
        volatile boolean swallowed;

        Link(Socket client, Socket server) {
            this.client = client;
            this.server = server;
            this.swallowed = server == null;
        }

        /** Closes the service's side with a TCP reset (RST) rather than an orderly close (FIN). */
        void reset() {
            try {
                client.setSoLinger(true, 0);
            } catch (IOException e) {
                // Closed already: there is nothing left to reset.
            }
            close();
        }

        void close() {
            closeQuietly(client);
            if (server != null) {
                closeQuietly(server);
            }
        }
    }

    public TcpProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.submit(this::accept);
    }

    public int port() {
        return listener.getLocalPort();
    }

    public void cut() {
        mode = Mode.CUT;
        links.forEach(Link::close);
        links.clear();
    }

    public void blackhole() {
        mode = Mode.BLACKHOLE;
        links.forEach(link -> link.swallowed = true);
    }

    /**
     * As {@link #blackhole}, and the database never hears that the service gave a connection up: its side stays open
     * until the proxy closes, as behind a network partition or a frozen proxy (on which PostgreSQL's own TCP
     * keepalive, two hours by default, would be the first to notice).
     */
    public void freeze() {
        frozen = true;
        blackhole();
    }

    /**
     * Resets every connection, open or new, as soon as the service sends on it: a query in flight, or a login, fails
     * on a connection reset by its peer.
     */
    public void reset() {
        mode = Mode.RESET;
    }

    /** Forwards new connections again. */
    public void restore() {
        mode = Mode.FORWARD;
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                switch (mode) {
                    case CUT -> client.close();
                    case BLACKHOLE, RESET -> {
                        var link = new Link(client, null);
                        links.add(link);
                        threads.submit(() -> pump(link, client, null));
                    }
                    case FORWARD -> {
                        Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                        var link = new Link(client, server);
                        links.add(link);
                        threads.submit(() -> pump(link, client, server));
                        threads.submit(() -> pump(link, server, client));
                    }
                }
            } catch (IOException e) {
                if (!listener.isClosed()) {
                    throw new IllegalStateException("proxy accept failed", e);
                }
            }
        }
    }

    /**
     * Copies {@code from} to {@code to} until either closes; once the link is swallowed, reads and drops. When the
     * service gives a swallowed connection up (its PostgreSQL driver says Terminate and half-closes), the proxy
     * closes it: on a real lost network path nothing would acknowledge that FIN, and the service's kernel would
     * abort the connection after {@code TCP_USER_TIMEOUT}, which this stands for.
     */
    private void pump(Link link, Socket from, Socket to) {
        byte[] buffer = new byte[8192];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to == null ? null : to.getOutputStream();
            int n;
            while ((n = in.read(buffer)) >= 0) {
                if (mode == Mode.RESET && from == link.client) {
                    link.reset();
                    break;
                }
                if (!link.swallowed) {
                    out.write(buffer, 0, n);
                    out.flush();
                }
            }
        } catch (IOException e) {
            // The other side closed or the proxy cut the connection: that is this proxy's purpose.
        }
        links.remove(link);
        if (frozen && link.server != null) {
            held.add(link.server);
            closeQuietly(link.client);
        } else {
            link.close();
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // Already closed; nothing to release.
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        cut();
        held.forEach(TcpProxy::closeQuietly);
        threads.shutdownNow();
    }
}
