import Synchronization

/// Wakes the listeners of a queue when a message arrives in it.
///
/// Each queue has a generation that every enqueue advances. A listener reads the generation,
/// then the store, and waits only if the generation is still the one it read, so that a message
/// committed between its read and its wait is never missed.
final class QueueNotifier: Sendable {
    private struct Waiter {
        var generation: UInt64
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var generations: [String: UInt64] = [:]
        var waiters: [String: [Int: Waiter]] = [:]
        var nextID = 0
        var closed = false
    }

    private let state = Mutex(State())

    /// The queue's current generation.
    func generation(of queueID: String) -> UInt64 {
        state.withLock { $0.generations[queueID, default: 0] }
    }

    /// A message arrived in `queueID`: wakes its listeners.
    func signal(_ queueID: String) {
        let woken = state.withLock { state -> [Waiter] in
            state.generations[queueID, default: 0] &+= 1
            guard let waiters = state.waiters.removeValue(forKey: queueID) else { return [] }
            return Array(waiters.values)
        }
        for waiter in woken { waiter.continuation.resume() }
    }

    /// Returns once `queueID` has moved past `generation`, the task is cancelled, or the notifier
    /// is closed.
    func wait(_ queueID: String, after generation: UInt64) async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.closed || Task.isCancelled || state.generations[queueID, default: 0] != generation { return true }
                    state.waiters[queueID, default: [:]][id] = Waiter(generation: generation, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                let waiter = state.waiters[queueID]?.removeValue(forKey: id)
                if state.waiters[queueID]?.isEmpty == true { state.waiters[queueID] = nil }
                return waiter
            }
            waiter?.continuation.resume()
        }
    }

    /// Wakes every listener and makes later waits return at once (the server is draining).
    func close() {
        let woken = state.withLock { state -> [Waiter] in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters.values.flatMap(\.values)
        }
        for waiter in woken { waiter.continuation.resume() }
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// Forgets a deleted queue's generation.
    func forget(_ queueID: String) {
        let woken = state.withLock { state -> [Waiter] in
            state.generations[queueID] = nil
            return state.waiters.removeValue(forKey: queueID).map { Array($0.values) } ?? []
        }
        for waiter in woken { waiter.continuation.resume() }
    }
}
