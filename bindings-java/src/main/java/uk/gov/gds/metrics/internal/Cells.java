package uk.gov.gds.metrics.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Updates a series' value cells in the core's memory, with no native call.
 *
 * <p>The core exports where each series keeps its values and which atomic operations
 * update them ({@code gds_metrics::cells}); the natives wrap that memory in direct
 * buffers, and the methods here apply exactly those operations to it through a
 * {@link VarHandle}, so the core still reads, renders and aggregates the same cells with
 * atomics (never a torn value, never a lost update). Every cell is a naturally aligned,
 * native-order 8-byte word; offsets are in bytes.
 *
 * <p>Only the series object that owns the native handle may hold these buffers: it keeps
 * the handle, and so the memory, alive while it is reachable (see {@link Handles}), and
 * every method using a buffer ends with {@code Reference.reachabilityFence(this)}.
 */
public final class Cells {
    private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());

    private Cells() {}

    /**
     * Replaces {@code expected} with {@code next} if the cell holds it; returns what the cell
     * held (so {@code expected} when it worked). One access: callers keep the value they
     * last wrote as their next {@code expected}, which is right whenever no one else wrote.
     */
    public static long compareAndExchange(ByteBuffer cells, int offset, long expected, long next) {
        return (long) LONGS.compareAndExchange(cells, offset, expected, next);
    }

    /** Adds {@code n}; returns the value before. */
    public static long fetchAdd(ByteBuffer cells, int offset, long n) {
        return (long) LONGS.getAndAdd(cells, offset, n);
    }

    /** Adds {@code n} with release ordering: what was written before is seen by whoever sees this. */
    public static void fetchAddRelease(ByteBuffer cells, int offset, long n) {
        long ignored = (long) LONGS.getAndAddRelease(cells, offset, n);
    }

    /** Adds {@code delta} to the {@code double} whose bits are in the cell (a compare-and-swap loop). */
    public static void addDouble(ByteBuffer cells, int offset, double delta) {
        addDouble(cells, offset, (long) LONGS.getOpaque(cells, offset), delta);
    }

    /**
     * Adds {@code delta} to the {@code double} whose bits are in the cell, starting the
     * compare-and-swap loop from {@code guess} (the bits this caller wrote last, usually
     * still there: one access instead of two); returns the bits written.
     */
    public static long addDouble(ByteBuffer cells, int offset, long guess, double delta) {
        long current = guess;
        while (true) {
            long next = Double.doubleToRawLongBits(Double.longBitsToDouble(current) + delta);
            long witness = (long) LONGS.compareAndExchange(cells, offset, current, next);
            if (witness == current) {
                return next;
            }
            current = witness;
        }
    }

    /** Stores {@code value}'s bits in the cell. */
    public static void setDouble(ByteBuffer cells, int offset, double value) {
        LONGS.setOpaque(cells, offset, Double.doubleToRawLongBits(value));
    }

    /** The {@code double} whose bits are in the cell. */
    public static double getDouble(ByteBuffer cells, int offset) {
        return Double.longBitsToDouble((long) LONGS.getOpaque(cells, offset));
    }

    /** The word in the cell. */
    public static long getLong(ByteBuffer cells, int offset) {
        return (long) LONGS.getOpaque(cells, offset);
    }

    /**
     * A counter's stripes: cells on cache lines of their own, any of which may be added to.
     * Each thread keeps to one (by its id), so two threads rarely share a line.
     */
    public static final class Stripes {
        private final ByteBuffer cells;
        private final int mask;
        private final int stride;

        /** Made on the counter's first contended increment, from {@code Native.counterStripes}. */
        public Stripes(long series) {
            int[] countAndStride = new int[2];
            this.cells = Native.counterStripes(series, countAndStride);
            this.mask = Integer.highestOneBit(countAndStride[0]) - 1;
            this.stride = countAndStride[1];
        }

        /** Adds {@code n} to this thread's stripe. */
        public void add(long n) {
            int stripe = (int) Thread.currentThread().getId() & mask;
            fetchAdd(cells, stripe * stride, n);
        }

        /** How many stripes are in use. */
        public int count() {
            return mask + 1;
        }

        /** Adds {@code n} to stripe {@code i}, for tests that reach every stripe. */
        public void addTo(int i, long n) {
            fetchAdd(cells, (i & mask) * stride, n);
        }
    }

    /**
     * A histogram's or summary's cells in the core's hot/cold scheme: an observer counts
     * itself in as started (the top bit names the hot shard), adds to the hot shard's sum,
     * then counts its bucket there, last and with release ordering; a scrape flips the bit
     * and waits for the cold buckets to add up to the observations started before it, so
     * it reads whole observations only.
     */
    public static final class Distribution {
        private final ByteBuffer startedAndHot;
        private final Shard[] shards;

        /** From the five buffers of {@code Native.distributionCells}. */
        public Distribution(ByteBuffer[] cells) {
            this.startedAndHot = cells[0];
            this.shards = new Shard[] {new Shard(cells[1], cells[2]), new Shard(cells[3], cells[4])};
        }

        /** One observation of {@code value}, counted in classic bucket {@code bucket}. */
        public void observe(int bucket, double value) {
            long started = fetchAdd(startedAndHot, 0, 1L);
            Shard hot = shards[(int) (started >>> 63)];
            hot.sumBits = addDouble(hot.sum, 0, hot.sumBits, value);
            fetchAddRelease(hot.buckets, bucket << 3, 1L);
        }

        /** How many buckets, {@code +Inf} included. */
        public int buckets() {
            return shards[0].buckets.capacity() >> 3;
        }
    }

    private static final class Shard {
        final ByteBuffer buckets;
        final ByteBuffer sum;
        /** The sum's bits as this object last wrote them: a racy hint, checked by the compare-and-swap. */
        long sumBits;

        Shard(ByteBuffer buckets, ByteBuffer sum) {
            this.buckets = buckets;
            this.sum = sum;
        }
    }
}
