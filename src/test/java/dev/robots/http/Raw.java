package dev.robots.http;

import dev.robots.RunningService;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Pattern;

/**
 * HTTP over a plain socket, byte for byte: what a client library would normalise (a path's {@code //} or {@code %72},
 * two Host headers, a method of any spelling) reaches the server as written.
 */
final class Raw {
    /** The header line that carries the write token ({@link RunningService#TOKEN}), as a raw request writes it. */
    static final String AUTH = "Authorization: Bearer " + RunningService.TOKEN + "\r\n";
    private static final Pattern ANY_STATUS_LINE = Pattern.compile("HTTP/1\\.[01] (\\d{3}) [A-Z]");
    private static final Pattern STATUS_LINE = Pattern.compile("(?m)^HTTP/\\d\\.\\d (\\d{3}) ");

    /** What came back, and whether the server closed the connection. */
    record Answer(String text, boolean closed) {
        /** The status of every response in the answer, in order. */
        List<Integer> statuses() {
            return STATUS_LINE.matcher(text).results().map(m -> Integer.parseInt(m.group(1))).toList();
        }

        /**
         * The status of every answer, also of answers that follow a body without a line end between them (where
         * {@link #statuses} sees only the first).
         */
        List<Integer> everyStatus() {
            return ANY_STATUS_LINE.matcher(text).results().map(m -> Integer.parseInt(m.group(1))).toList();
        }

        int status() {
            var statuses = statuses();
            if (statuses.isEmpty()) {
                throw new AssertionError("no response, only: " + text);
            }
            return statuses.getFirst();
        }
    }

    private Raw() {
    }

    /** Writes {@code request} on a new connection and reads until the server closes it or is quiet for 5 s. */
    static Answer exchange(int port, String request) throws IOException {
        return exchange(port, request.getBytes(StandardCharsets.ISO_8859_1));
    }

    static Answer exchange(int port, byte[] request) throws IOException {
        try (var socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(5_000);
            try {
                socket.getOutputStream().write(request);
                socket.getOutputStream().flush();
            } catch (SocketException refusedMidway) {
                // The server may answer and close before the whole request is written: the answer is still there.
            }
            return readAll(socket.getInputStream());
        }
    }

    /** Writes {@code request}, shuts the connection's output down at once (a half-close), then reads as above. */
    static Answer halfClosed(int port, String request) throws IOException {
        try (var socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.shutdownOutput();
            return readAll(socket.getInputStream());
        }
    }

    private static Answer readAll(InputStream in) throws IOException {
        var answer = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        boolean closed;
        try {
            for (int n; (n = in.read(buffer)) > 0; ) {
                answer.write(buffer, 0, n);
            }
            closed = true;
        } catch (SocketTimeoutException quiet) {
            closed = false;
        } catch (SocketException reset) {
            closed = true;
        }
        return new Answer(answer.toString(StandardCharsets.ISO_8859_1), closed);
    }
}
