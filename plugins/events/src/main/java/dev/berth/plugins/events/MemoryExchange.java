package dev.berth.plugins.events;

import static java.util.Objects.requireNonNull;

import dev.berth.plugin.BerthException;
import dev.berth.plugin.events.Envelope;
import dev.berth.plugin.events.Event;
import dev.berth.plugin.events.Exchange;
import dev.berth.plugin.events.Subscription;
import dev.berth.plugin.metadata.Identifiers;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.ArrayDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-memory exchange, as containerd's: an event goes to the subscribers present when it is
 * published, each through a queue of its own so that a slow subscriber delays no publisher.
 */
final class MemoryExchange implements Exchange, AutoCloseable {
    /** Events a subscriber may have pending before it is dropped. */
    static final int DEFAULT_BACKLOG = 4096;
    private static final Logger log = LoggerFactory.getLogger(MemoryExchange.class);

    private final Clock clock;
    private final int backlog;
    private final CopyOnWriteArrayList<QueueSubscription> subscriptions = new CopyOnWriteArrayList<>();

    MemoryExchange(Clock clock, int backlog) {
        this.clock = requireNonNull(clock, "clock is null");
        if (backlog < 1) {
            throw new IllegalArgumentException("backlog must be positive: " + backlog);
        }
        this.backlog = backlog;
    }

    @Override
    public void publish(String namespace, String topic, Event event) {
        requireNonNull(event, "event is null");
        validate(namespace, topic);
        deliver(new Envelope(clock.instant(), namespace, topic, event));
    }

    @Override
    public void forward(Envelope envelope) {
        requireNonNull(envelope, "envelope is null");
        validate(envelope.namespace(), envelope.topic());
        deliver(envelope);
    }

    @Override
    public Subscription subscribe(Predicate<? super Envelope> filter) {
        QueueSubscription subscription = new QueueSubscription(requireNonNull(filter, "filter is null"));
        subscriptions.add(subscription);
        return subscription;
    }

    /** Ends every subscription, releasing their subscribers. */
    @Override
    public void close() {
        for (QueueSubscription subscription : subscriptions) {
            subscription.end("event exchange closed");
        }
    }

    private void deliver(Envelope envelope) {
        for (QueueSubscription subscription : subscriptions) {
            subscription.offer(envelope);
        }
    }

    /** containerd's rules: a valid namespace; a topic of identifiers, each after a {@code /}. */
    private static void validate(String namespace, String topic) {
        requireNonNull(namespace, "namespace is null");
        requireNonNull(topic, "topic is null");
        try {
            Identifiers.validate(namespace);
        } catch (BerthException e) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "event has invalid namespace: " + e.getMessage());
        }
        String problem = null;
        if (topic.isEmpty()) {
            problem = "must not be empty";
        } else if (topic.charAt(0) != '/') {
            problem = "must start with '/'";
        } else if (topic.length() == 1) {
            problem = "must have at least one component";
        } else {
            for (String component : topic.substring(1).split("/", -1)) {
                try {
                    Identifiers.validate(component);
                } catch (BerthException e) {
                    problem = "failed validation on component \"" + component + "\": " + e.getMessage();
                    break;
                }
            }
        }
        if (problem != null) {
            throw BerthException.of(BerthException.Kind.INVALID_ARGUMENT, "envelope topic \"" + topic + "\": " + problem);
        }
    }

    private final class QueueSubscription implements Subscription {
        private final Predicate<? super Envelope> filter;
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition notEmpty = lock.newCondition();
        private final ArrayDeque<Envelope> pending = new ArrayDeque<>();
        private String ended;

        QueueSubscription(Predicate<? super Envelope> filter) {
            this.filter = filter;
        }

        void offer(Envelope envelope) {
            if (!accepts(envelope)) {
                return;
            }
            boolean overflow;
            lock.lock();
            try {
                if (ended != null) {
                    return;
                }
                overflow = pending.size() >= backlog;
                if (!overflow) {
                    pending.add(envelope);
                    notEmpty.signal();
                }
            } finally {
                lock.unlock();
            }
            if (overflow) {
                log.warn("dropping an event subscriber {} events behind", backlog);
                end("event subscriber fell " + backlog + " events behind");
            }
        }

        private boolean accepts(Envelope envelope) {
            try {
                return filter.test(envelope);
            } catch (RuntimeException e) {
                return false;
            }
        }

        @Override
        public Envelope take() throws InterruptedException {
            lock.lock();
            try {
                while (pending.isEmpty()) {
                    checkOpen();
                    notEmpty.await();
                }
                return pending.remove();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public Optional<Envelope> poll(Duration timeout) throws InterruptedException {
            long nanos = timeout.toNanos();
            lock.lock();
            try {
                while (pending.isEmpty()) {
                    checkOpen();
                    if (nanos <= 0) {
                        return Optional.empty();
                    }
                    nanos = notEmpty.awaitNanos(nanos);
                }
                return Optional.of(pending.remove());
            } finally {
                lock.unlock();
            }
        }

        // events published before the end are still taken; the end is reported once they are
        private void checkOpen() {
            if (ended != null) {
                throw BerthException.of(BerthException.Kind.UNAVAILABLE, ended);
            }
        }

        void end(String reason) {
            subscriptions.remove(this);
            lock.lock();
            try {
                if (ended == null) {
                    ended = reason;
                    notEmpty.signalAll();
                }
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void close() {
            end("subscription closed");
        }
    }
}
