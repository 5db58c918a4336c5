package dev.robots.db;

import dev.robots.config.ConfigurationError;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An exclusive lock on {@code DATA_DIR/.lock}, held while the embedded database is in use. H2 locks its file only
 * while a connection is open, and the pool lets idle connections go: a second process on the same directory would
 * start while the first is idle, and the two would then take the file from each other for ever. With this lock the
 * second refuses to start. The operating system releases it when the process ends, however it ends.
 */
final class DataDirLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private DataDirLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Creates {@code dataDir} if needed and locks it, or stops the start with one line saying why not. */
    static DataDirLock acquire(Path dataDir) {
        Path dir = dataDir.toAbsolutePath().normalize();
        try {
            Files.createDirectories(dir);
            FileChannel channel = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
            FileLock lock = tryLock(channel);
            if (lock == null) {
                channel.close();
                throw new ConfigurationError(("DATA_DIR %s is in use by another running instance; give each "
                        + "instance its own DATA_DIR, or all of them one DATABASE_URL").formatted(dir));
            }
            return new DataDirLock(channel, lock);
        } catch (IOException e) {
            throw new ConfigurationError("DATA_DIR %s cannot be created or written (%s)"
                    .formatted(dir, e.getClass().getSimpleName()));
        }
    }

    /** The lock, or null when another process (or this one, for a second Application) holds it. */
    private static FileLock tryLock(FileChannel channel) throws IOException {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException heldInThisJvm) {
            return null;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
