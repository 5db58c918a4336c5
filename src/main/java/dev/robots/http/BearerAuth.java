package dev.robots.http;

import dev.robots.config.Config;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Guards the routes that change data: {@code Authorization: Bearer TOKEN} with one of the accepted tokens, or a 401
 * problem with {@code WWW-Authenticate: Bearer}. Tokens are compared as SHA-256 digests in constant time, and never
 * logged, except one generated at start when none is configured (so a local run is safe by default and still usable).
 */
public final class BearerAuth implements Handler<RoutingContext> {
    private static final Logger LOG = Logger.getLogger(BearerAuth.class.getName());
    private static final String PREFIX = "Bearer ";

    private final List<byte[]> digests;

    private BearerAuth(List<String> tokens) {
        this.digests = tokens.stream().map(BearerAuth::digest).toList();
    }

    /** The tokens of {@code API_TOKENS} and the file {@code API_TOKENS_FILE}, or a generated one. */
    public static BearerAuth of(Config config) {
        List<String> tokens = config.apiTokens();
        if (tokens.isEmpty()) {
            byte[] random = new byte[32];
            new SecureRandom().nextBytes(random);
            String token = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            LOG.warning("Neither API_TOKENS nor API_TOKENS_FILE is set: writes need this token, made for this run: "
                    + token);
            tokens = List.of(token);
        }
        return new BearerAuth(tokens);
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
