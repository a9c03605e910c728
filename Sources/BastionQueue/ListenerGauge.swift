import Synchronization

/// What the Listen calls of one ``QueueService`` hold: messages read from the store and not yet
/// handed to the transport, their high-water mark, and how many were delivered. A slow reader
/// must leave `held` bounded by one batch (docs/QUEUE.md, "Listen").
public final class ListenerGauge: Sendable {
    public struct Reading: Sendable, Hashable {
        /// Listen calls running now.
        public var listeners = 0
        /// Messages read from the store and not yet written to the transport.
        public var held = 0
        /// The largest `held` seen.
        public var maxHeld = 0
        /// Messages written to the transport (the transport may still buffer up to one
        /// flow-control window of them per call).
        public var delivered = 0
    }

    private let state = Mutex(Reading())

    public var reading: Reading { state.withLock { $0 } }

    func opened() { state.withLock { $0.listeners += 1 } }
    func closed() { state.withLock { $0.listeners -= 1 } }

    func loaded(_ count: Int) {
        state.withLock { reading in
            reading.held += count
            reading.maxHeld = max(reading.maxHeld, reading.held)
        }
    }

    func unloaded(_ count: Int) { state.withLock { $0.held -= count } }

    func delivered() {
        state.withLock { reading in
            reading.held -= 1
            reading.delivered += 1
        }
    }
}
