package dev.robots.http;

import dev.robots.config.Config;
import dev.robots.config.ConfigurationError;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Set;

/**
 * The write token of a local run without configured tokens: {@code DATA_DIR/api-token}, readable by its owner only,
 * made on the first start and kept across restarts (a developer's shell that read it keeps working). The token is
 * never logged: the log says where the file is. A file already there is read, never overwritten, whoever made it.
 */
final class LocalTokenFile {
    static final String NAME = "api-token";
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_ATTRIBUTE =
            PosixFilePermissions.asFileAttribute(OWNER_ONLY);

    /** The file's tokens, and whether this start made it. */
    record Tokens(List<String> values, boolean made) {
        /** Never the tokens: a record would print them. */
        @Override
        public String toString() {
            return "Tokens[made=" + made + "]";
        }
    }

    private LocalTokenFile() {
    }

    /** The tokens of {@code file}, a new one made first if there is no file; or a stop that says how to go on. */
    static Tokens readOrCreate(Path file) {
        try {
            return new Tokens(read(file), false);
        } catch (NoSuchFileException absent) {
            // The usual first start: made below.
        } catch (IOException e) {
            throw unusable(file, e.getClass().getSimpleName());
        }
        try {
            create(file);
            return new Tokens(read(file), true);
        } catch (FileAlreadyExistsException madeMeanwhile) {
            // Not by another server (DATA_DIR is locked), but by someone: theirs is read, never replaced.
            return new Tokens(readOrStop(file), false);
        } catch (IOException | UnsupportedOperationException e) {
            throw new ConfigurationError(("%s cannot be written (%s); set API_TOKENS or API_TOKENS_FILE for writes")
                    .formatted(file, e.getClass().getSimpleName()));
        }
    }

    /**
     * Writes a new token to a temporary file created owner-only, then links it to {@code file}: the file appears
     * whole or not at all, never with other permissions, and never in place of one that exists (a link, unlike a
     * rename, does not replace its target).
     */
    private static void create(Path file) throws IOException {
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        Path temporary = Files.createTempFile(file.getParent(), "." + NAME + "-", ".tmp", OWNER_ONLY_ATTRIBUTE);
        try {
            try (var channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                channel.write(ByteBuffer.wrap((token + "\n").getBytes(StandardCharsets.US_ASCII)));
                channel.force(true);
            }
            Files.createLink(file, temporary);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    private static List<String> readOrStop(Path file) {
        try {
            return read(file);
        } catch (IOException e) {
            throw unusable(file, e.getClass().getSimpleName());
        }
    }

    /** The file's tokens, if only its owner may read it: a token that others could read may have been read. */
    private static List<String> read(Path file) throws IOException {
        Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
        if (permissions.stream().anyMatch(p -> !p.name().startsWith("OWNER_"))) {
            throw unusable(file, "others may read it: " + PosixFilePermissions.toString(permissions));
        }
        try {
            return Config.tokenFile(file, "The token file");
        } catch (ConfigurationError e) {
            throw new ConfigurationError(e.getMessage() + "; " + ADVICE);
        }
    }

    private static final String ADVICE = "delete it to have a new one made, or set API_TOKENS or API_TOKENS_FILE";

    private static ConfigurationError unusable(Path file, String why) {
        return new ConfigurationError("The token file %s cannot be used (%s); %s".formatted(file, why, ADVICE));
    }
}
