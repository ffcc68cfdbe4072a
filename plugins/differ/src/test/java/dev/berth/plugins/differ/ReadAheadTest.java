package dev.berth.plugins.differ;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.plugin.BerthException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class ReadAheadTest {

    private static byte[] random(int size) {
        byte[] bytes = new byte[size];
        new Random(size).nextBytes(bytes);
        return bytes;
    }

    private static boolean threadAlive(String name) {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals(name) && t.isAlive());
    }

    @Test
    void passesEveryByteInOrderWhateverTheReadSizes() throws IOException {
        byte[] source = random(1 << 20 | 17);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ReadAhead ahead = new ReadAhead(new ByteArrayInputStream(source), 4096, 3, "read-ahead-order")) {
            Random sizes = new Random(7);
            byte[] buffer = new byte[10_000];
            while (true) {
                if (sizes.nextInt(10) == 0) {
                    int b = ahead.read();
                    if (b < 0) {
                        break;
                    }
                    out.write(b);
                } else {
                    int n = ahead.read(buffer, 3, 1 + sizes.nextInt(buffer.length - 3));
                    if (n < 0) {
                        break;
                    }
                    out.write(buffer, 3, n);
                }
            }
            assertEquals(-1, ahead.read(), "the end stays the end");
        }
        assertArrayEquals(source, out.toByteArray());
    }

    @Test
    void anEmptySourceEndsAtOnce() throws IOException {
        try (ReadAhead ahead = new ReadAhead(InputStream.nullInputStream(), 16, 1, "read-ahead-empty")) {
            assertEquals(-1, ahead.read(new byte[4]));
            assertEquals(0, ahead.read(new byte[4], 0, 0));
        }
    }

    @Test
    void theSourcesFailureReachesTheReaderWhereItHappened() throws IOException {
        IOException failure = new IOException("corrupt gzip stream");
        byte[] good = random(10_000);
        InputStream failing = new InputStream() {
            private final InputStream in = new ByteArrayInputStream(good);

            @Override
            public int read() throws IOException {
                int b = in.read();
                if (b < 0) {
                    throw failure;
                }
                return b;
            }
        };
        try (ReadAhead ahead = new ReadAhead(failing, 4096, 2, "read-ahead-failure")) {
            byte[] read = ahead.readNBytes(good.length);
            assertArrayEquals(good, read, "every byte before the failure arrives");
            IOException thrown = assertThrows(IOException.class, ahead::read);
            assertSame(failure, thrown);
            assertSame(failure, assertThrows(IOException.class, ahead::read), "and again on the next read");
        }
    }

    @Test
    void anUncheckedFailureKeepsItsType() throws IOException {
        IllegalStateException failure = new IllegalStateException("reader closed");
        InputStream failing = new InputStream() {
            @Override
            public int read() {
                throw failure;
            }
        };
        try (ReadAhead ahead = new ReadAhead(failing, 16, 1, "read-ahead-unchecked")) {
            assertSame(failure, assertThrows(IllegalStateException.class, ahead::read));
        }
    }

    @Test
    void closingBeforeTheEndStopsTheThreadAndLeavesTheSourceOpen() throws IOException {
        AtomicLong served = new AtomicLong();
        AtomicBoolean sourceClosed = new AtomicBoolean();
        InputStream endless = new InputStream() {
            @Override
            public int read() {
                served.incrementAndGet();
                return 'x';
            }

            @Override
            public void close() {
                sourceClosed.set(true);
            }
        };
        ReadAhead ahead = new ReadAhead(endless, 1024, 4, "read-ahead-close");
        assertEquals('x', ahead.read());
        ahead.close();
        assertFalse(threadAlive("read-ahead-close"), "the thread stopped with close");
        long after = served.get();
        // at most the chunks that fit, the one in the reader's hands, and the one being filled
        assertTrue(after <= 6 * 1024, "read " + after + " bytes ahead of a reader that took 1");
        assertEquals(after, served.get(), "nothing is read after close");
        assertFalse(sourceClosed.get(), "the caller closes the source");
        assertThrows(IOException.class, ahead::read, "a closed stream is not read");
        ahead.close();
    }

    @Test
    void aReaderInterruptedWhileItWaitsIsCanceled() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        InputStream slow = new InputStream() {
            @Override
            public int read() throws IOException {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
                return -1;
            }
        };
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        try (ReadAhead ahead = new ReadAhead(slow, 16, 1, "read-ahead-interrupt")) {
            Thread reader = Thread.ofPlatform().start(() -> {
                try {
                    ahead.read();
                } catch (Throwable t) {
                    thrown.set(t);
                }
            });
            // the reader waits for the first chunk, which the source holds back
            while (reader.getState() != Thread.State.WAITING) {
                Thread.sleep(5);
            }
            reader.interrupt();
            reader.join(TimeUnit.SECONDS.toMillis(10));
            release.countDown();
        }
        BerthException canceled = assertInstanceOfBerth(thrown.get());
        assertEquals(BerthException.Kind.CANCELED, canceled.kind());
        assertFalse(threadAlive("read-ahead-interrupt"));
    }

    private static BerthException assertInstanceOfBerth(Throwable thrown) {
        assertTrue(thrown instanceof BerthException, "expected a BerthException, got " + thrown);
        return (BerthException) thrown;
    }
}
