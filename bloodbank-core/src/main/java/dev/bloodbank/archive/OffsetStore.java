package dev.bloodbank.archive;

import dev.bloodbank.correlation.RedisTrackerOptions;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Where a resumable replay keeps the offset of the last event it finished, so that after a restart
 * it continues with the next one ({@link ReplayOptions.Builder#resumeFrom(OffsetStore)}).
 *
 * <p>A replay writes its offset every so many events, every so often, and when it ends; after a
 * crash it continues after the last offset written, so the events finished since then are handed
 * again: delivery is at-least-once, and handlers should be idempotent by event id. One store
 * belongs to one reader: two replays sharing a store overwrite each other's offsets.
 *
 * <p>Implementations must be thread-safe. A replay never closes its store: the caller does, after
 * the replay ended.
 *
 * @since 0.2.0
 */
public interface OffsetStore extends AutoCloseable {
  /**
   * Returns the offset stored.
   *
   * @return the offset of the last event finished, or empty when nothing was stored yet
   * @throws dev.bloodbank.BloodbankException naming the store when it cannot be read
   */
  OptionalLong load();

  /**
   * Stores an offset durably: after this returns, a crash of the process or the machine leaves this
   * offset (or a later one) in the store.
   *
   * @param offset the offset of the last event finished, 0 or more
   * @throws dev.bloodbank.BloodbankException naming the store when it cannot be written
   */
  void store(long offset);

  /**
   * Returns a store in a file holding the offset as decimal text. Each {@link #store} writes a
   * sibling temporary file ({@code <name>.tmp}), forces it to disk, renames it over the file
   * atomically and forces the directory, so the file always holds a whole offset, the old one or
   * the new one. The directory must exist.
   *
   * @param file the file; created on the first store
   * @return the store
   */
  static OffsetStore file(Path file) {
    return new FileOffsetStore(file);
  }

  /**
   * Returns a store in one Redis string key holding the offset as decimal text, read with {@code
   * GET} and written with {@code SET}; it connects on first use and reconnects by itself, each
   * command bounded by the options' command timeout. A written offset is as durable as the Redis
   * server's persistence makes it (with {@code appendfsync everysec}, up to a second of writes may
   * be lost in a crash of the Redis machine, and the reader then repeats those events). Close it
   * when done.
   *
   * @param options where Redis is (the same options as the bus's correlation tracker); its client
   *     name is replaced by {@code bloodbank-replay-offset}
   * @param key the key, one per reader, such as {@code bloodbank:replay:transcripts-backfill}
   * @return the store
   */
  static OffsetStore redis(RedisTrackerOptions options, String key) {
    return new RedisOffsetStore(options, key);
  }

  /**
   * Releases what the store holds (a Redis connection); the file store holds nothing. Idempotent.
   */
  @Override
  default void close() {}
}
