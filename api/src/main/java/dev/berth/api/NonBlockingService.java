package dev.berth.api;

import java.util.Set;

/**
 * A gRPC service some of whose methods never wait. The daemon runs the calls of those methods, and
 * every callback of their streams, on the transport's thread that received them, instead of handing
 * each call to a request thread and its replies back: for a client making many small calls (as
 * {@code ctr content get} and {@code ctr images export} do, one per 32 KiB) the two hand-offs cost
 * more than the work.
 *
 * <p>A method belongs here only if its handler returns after reading memory, memory-mapped metadata or
 * local files, and never waits on a lock held across I/O, a network, a child process or a timer. A
 * handler that has blocking work to do for some requests hands that work to a thread of its own.
 */
public interface NonBlockingService {

    /** Full names ({@code package.Service/Method}) of the methods that never wait. */
    Set<String> nonBlockingMethods();
}
