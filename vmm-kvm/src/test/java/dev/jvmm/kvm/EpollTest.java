package dev.jvmm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** epoll on plain eventfds: no KVM needed, so these run on every Linux host. */
class EpollTest {

    @Test
    void wakesOnAnEventfdSignalWithItsToken() throws Exception {
        try (Epoll ep = Epoll.create();
                EventFd a = EventFd.create(true);
                EventFd b = EventFd.create(true)) {
            ep.add(a, Epoll.EPOLLIN, 0xA);
            ep.add(b, Epoll.EPOLLIN, 0xFFFF_FFFF_0000_000BL); // all 64 bits of the token travel
            long[] tokens = new long[4];
            b.signal();
            assertEquals(1, ep.await(tokens, 1000));
            assertEquals(0xFFFF_FFFF_0000_000BL, tokens[0]);
            a.signal();
            // b was not read: level-triggered, it is still ready, so both come back.
            assertEquals(2, ep.await(tokens, 1000));
            assertEquals(java.util.Set.of(0xAL, 0xFFFF_FFFF_0000_000BL), java.util.Set.of(tokens[0], tokens[1]));
            assertEquals(1, a.read());
            assertEquals(1, b.read());
            assertEquals(0, ep.await(tokens, 0), "read eventfds are no longer ready");
        }
    }

    @Test
    void timesOutWithZero() throws Exception {
        try (Epoll ep = Epoll.create();
                EventFd a = EventFd.create(true)) {
            ep.add(a, Epoll.EPOLLIN, 1);
            long t0 = System.nanoTime();
            assertEquals(0, ep.await(new long[1], 50));
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(40), "waited about the timeout");
        }
    }

    @Test
    void deleteStopsWakeUpsAndModifyChangesTheToken() throws Exception {
        try (Epoll ep = Epoll.create();
                EventFd a = EventFd.create(true)) {
            long[] tokens = new long[1];
            ep.add(a, Epoll.EPOLLIN, 1);
            ep.modify(a, Epoll.EPOLLIN, 2);
            a.signal();
            assertEquals(1, ep.await(tokens, 1000));
            assertEquals(2, tokens[0]);
            ep.delete(a);
            assertEquals(0, ep.await(tokens, 0), "a deleted fd is not reported, though it is still readable");
            var e = assertThrows(ErrnoException.class, () -> ep.delete(a));
            assertEquals(Errno.ENOENT, e.errno());
            assertTrue(e.getMessage().startsWith("epoll_ctl DEL eventfd(fd "), e.getMessage());
            ep.add(a, Epoll.EPOLLIN, 3);
            assertEquals(
                    Errno.EEXIST,
                    assertThrows(ErrnoException.class, () -> ep.add(a, Epoll.EPOLLIN, 3))
                            .errno());
        }
    }

    @Test
    void aWaiterOnAnotherThreadWakesUp() throws Exception {
        try (Epoll ep = Epoll.create();
                EventFd a = EventFd.create(true)) {
            ep.add(a, Epoll.EPOLLIN, 42);
            CompletableFuture<long[]> woke = new CompletableFuture<>();
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    long[] tokens = new long[2];
                    int n = ep.await(tokens, -1);
                    woke.complete(java.util.Arrays.copyOf(tokens, n));
                } catch (Throwable e) {
                    woke.completeExceptionally(e);
                }
            });
            Thread.sleep(50);
            assertFalse(woke.isDone(), "nothing signalled yet");
            a.signal();
            assertEquals(42, woke.get(10, TimeUnit.SECONDS)[0]);
            t.join(10_000);
        }
    }

    @Test
    void edgeTriggeredReportsOncePerSignal() throws Exception {
        try (Epoll ep = Epoll.create();
                EventFd a = EventFd.create(true)) {
            ep.add(a, Epoll.EPOLLIN | Epoll.EPOLLET, 7);
            long[] tokens = new long[1];
            a.signal();
            assertEquals(1, ep.await(tokens, 1000));
            assertEquals(0, ep.await(tokens, 0), "edge-triggered: no second report without a new signal");
            a.signal();
            assertEquals(1, ep.await(tokens, 1000));
        }
    }

    @Test
    void returnsNoMoreThanTheCallerHasRoomFor() throws Exception {
        try (Epoll ep = Epoll.create(2);
                EventFd a = EventFd.create(true);
                EventFd b = EventFd.create(true);
                EventFd c = EventFd.create(true)) {
            assertEquals(2, ep.maxEvents());
            ep.add(a, Epoll.EPOLLIN, 1);
            ep.add(b, Epoll.EPOLLIN, 2);
            ep.add(c, Epoll.EPOLLIN, 3);
            a.signal();
            b.signal();
            c.signal();
            assertEquals(1, ep.await(new long[1], 0), "the caller's array bounds the count");
            assertEquals(2, ep.await(new long[8], 0), "and so does the buffer allocated at creation");
        }
    }

    @Test
    void argumentsAndUseAfterClose() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> Epoll.create(0));
        Epoll ep = Epoll.create();
        assertThrows(IllegalArgumentException.class, () -> ep.await(new long[0], 0));
        assertThrows(IllegalArgumentException.class, () -> ep.await(new long[1], -2));
        EventFd a = EventFd.create(true);
        a.close();
        assertThrows(IllegalStateException.class, () -> ep.add(a, Epoll.EPOLLIN, 1), "a closed fd is never passed on");
        ep.close();
        assertThrows(IllegalStateException.class, () -> ep.await(new long[1], 0));
    }
}
