package dev.robots.http;

import dev.robots.config.Config;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.SecurityPolicyHandler;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Guards the routes that change data: {@code Authorization: Bearer TOKEN} with one of the accepted tokens, or a 401
 * problem with {@code WWW-Authenticate: Bearer}. Tokens are compared as SHA-256 digests in constant time, and never
 * logged. Without configured tokens a local run uses a token file of its own ({@link #of}), so that it is safe by
 * default and still usable.
 *
 * <p>Each write route puts it first in its own handler chain, before the body is read, so an unauthenticated body is
 * refused at once, however slowly it arrives. Vert.x Web orders a route's handlers by kind and puts an
 * {@code AuthenticationHandler} after the {@code BodyHandler}; as a security policy (writes need a token) it may come
 * before it.
 */
public final class BearerAuth implements SecurityPolicyHandler {
    private static final Logger LOG = Logger.getLogger(BearerAuth.class.getName());
    private static final String PREFIX = "Bearer ";

    private final List<byte[]> digests;

    private BearerAuth(List<String> tokens) {
        this.digests = tokens.stream().map(BearerAuth::digest).toList();
    }

    /**
     * The tokens of {@code API_TOKENS} and the file {@code API_TOKENS_FILE}. Without either, on the embedded database
     * (a local run): the token in {@code DATA_DIR/api-token}, made on the first start, so that writes work without
     * setup; the log names the file, never the token. On PostgreSQL, none: every write is refused, because instances
     * that share a database would each make a token of their own, in a file nobody reads on a platform such as Cloud
     * Run. Reads files: call it where blocking is allowed, after DATA_DIR is locked.
     */
    public static BearerAuth of(Config config) {
        if (!config.apiTokens().isEmpty()) {
            return new BearerAuth(config.apiTokens());
        }
        if (config.databaseUrl().isPresent()) {
            LOG.warning("Neither API_TOKENS nor API_TOKENS_FILE is set: every write is refused (401) until one of "
                    + "them is");
            return new BearerAuth(List.of());
        }
        Path file = config.dataDir().toAbsolutePath().normalize().resolve(LocalTokenFile.NAME);
        var tokens = LocalTokenFile.readOrCreate(file);
        LOG.warning(("Neither API_TOKENS nor API_TOKENS_FILE is set: writes need the token in %s (%s, readable by its "
                + "owner only): curl -H \"Authorization: Bearer $(cat '%s')\" ...")
                .formatted(file, tokens.made() ? "made now" : "kept from an earlier start", file));
        return new BearerAuth(tokens.values());
    }

    @Override
    public void handle(RoutingContext ctx) {
        String header = ctx.request().getHeader("Authorization");
        if (header == null || !header.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
            Problems.send(ctx, new Problem(401, "This request changes data: send Authorization: Bearer TOKEN.",
                    Map.of("WWW-Authenticate", "Bearer realm=\"robots\"")));
            return;
        }
        if (!accepted(header.substring(PREFIX.length()).strip())) {
            Problems.send(ctx, new Problem(401, "The bearer token is not accepted.",
                    Map.of("WWW-Authenticate", "Bearer realm=\"robots\", error=\"invalid_token\"")));
            return;
        }
        ctx.next();
    }

    private boolean accepted(String token) {
        byte[] candidate = digest(token);
        boolean match = false;
        for (byte[] digest : digests) {
            // Every token is compared, in constant time, so timing tells nothing about which or how much matched.
            match |= MessageDigest.isEqual(candidate, digest);
        }
        return match;
    }

    private static byte[] digest(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
