import BastionProtobuf
public import BastionRPC
public import BastionStore
import Synchronization

/// The append-only, hash-chained record of audited calls (methods whose policy asks for
/// non-repudiation), kept in the store.
///
/// Entry n names the hash of entry n-1, and its own hash covers everything in it, so changing,
/// removing or reordering an entry breaks the chain from there on; a head row holds the last
/// sequence number and hash, so that cutting entries off the end is noticed too. ``verify()``
/// walks the chain.
///
/// Appends are group-committed: callers that arrive while a commit is running wait for the next
/// one, which writes all of them in one transaction. Each caller still returns only once its
/// entry is durable, but a burst of audited calls costs one disk flush, not one each.
public final class AuditLog: Sendable {
    /// What ``verify()`` found.
    public struct Verification: Sendable, Hashable {
        /// Entries checked.
        public var entries: Int
        /// The first entry that does not fit the chain, if any.
        public var firstBrokenSequence: UInt64?
        /// What is wrong with it.
        public var problem: String?

        public var isIntact: Bool { firstBrokenSequence == nil && problem == nil }

        public init(entries: Int, firstBrokenSequence: UInt64?, problem: String?) {
            self.entries = entries
            self.firstBrokenSequence = firstBrokenSequence
            self.problem = problem
        }
    }

    /// One call to record; the log fills in the sequence number and the hashes.
    public struct Record: Sendable {
        public var unixNanos: Int64
        public var method: String
        public var principal: String
        public var peer: String
        public var statusCode: UInt32
        public var requestSHA256: [UInt8]

        public init(unixNanos: Int64, method: String, principal: String, peer: String, statusCode: UInt32, requestSHA256: [UInt8]) {
            self.unixNanos = unixNanos
            self.method = method
            self.principal = principal
            self.peer = peer
            self.statusCode = statusCode
            self.requestSHA256 = requestSHA256
        }
    }

    static let entries = Table<UInt64, Bastion_Policy_V1_AuditEntry>("audit.log")
    /// The last entry's sequence number and hash (one row, key "head").
    static let head = Table<String, Bastion_Policy_V1_AuditEntry>("audit.head")
    static let zeroHash = [UInt8](repeating: 0, count: 32)

    private struct State {
        var pending: [(Record, Completion)] = []
        var committing = false
    }

    private let store: Store
    private let state = Mutex(State())

    public init(store: Store) {
        self.store = store
    }

    /// Appends `record` and returns its sequence number once the entry is durable.
    @discardableResult
    public func append(_ record: Record) async throws -> UInt64 {
        let completion = Completion()
        let leads = state.withLock { state in
            state.pending.append((record, completion))
            guard !state.committing else { return false }
            state.committing = true
            return true
        }
        if leads {
            // This caller commits for everyone queued, batch after batch, until none is left.
            while let batch = nextBatch() {
                do {
                    let sequences = try await commit(batch.map(\.0))
                    for ((_, waiter), sequence) in zip(batch, sequences) { waiter.finish(.success(sequence)) }
                } catch {
                    for (_, waiter) in batch { waiter.finish(.failure(error)) }
                }
            }
        }
        return try await completion.value()
    }

    private func nextBatch() -> [(Record, Completion)]? {
        state.withLock { state in
            guard !state.pending.isEmpty else {
                state.committing = false
                return nil
            }
            defer { state.pending.removeAll(keepingCapacity: true) }
            return state.pending
        }
    }

    private func commit(_ records: [Record]) async throws -> [UInt64] {
        try await store.withWriteTransaction { txn in
            var last = try txn.get(Self.head, "head")
            var sequences: [UInt64] = []
            for record in records {
                var entry = Bastion_Policy_V1_AuditEntry()
                entry.sequence = (last?.sequence ?? 0) + 1
                entry.unixNanos = record.unixNanos
                entry.method = record.method
                entry.principal = record.principal
                entry.peer = record.peer
                entry.statusCode = record.statusCode
                entry.requestSha256 = record.requestSHA256
                entry.previousHash = last?.hash ?? Self.zeroHash
                entry.hash = Self.hash(of: entry)
                try txn.put(Self.entries, entry.sequence, entry)
                sequences.append(entry.sequence)
                last = entry
            }
            if let last {
                var head = Bastion_Policy_V1_AuditEntry()
                head.sequence = last.sequence
                head.hash = last.hash
                try txn.put(Self.head, "head", head)
            }
            return sequences
        }
    }

    /// SHA-256 of the entry encoded with its `hash` field empty.
    static func hash(of entry: Bastion_Policy_V1_AuditEntry) -> [UInt8] {
        var unsealed = entry
        unsealed.hash = []
        return SHA256.hash(unsealed.serializedBytes())
    }

    // MARK: Reading and verifying

    /// The entries from `sequence` on, at most `limit`.
    public func entries(from sequence: UInt64 = 1, limit: Int = 100) throws -> [Bastion_Policy_V1_AuditEntry] {
        try store.withReadTransaction { txn in
            try txn.scan(Self.entries, .from(sequence), limit: limit).map(\.value)
        }
    }

    /// Walks the whole chain in one read snapshot and names the first entry that does not fit.
    public func verify() throws -> Verification {
        try store.withReadTransaction { txn in
            var checked = 0
            var expectedSequence: UInt64 = 1
            var previousHash = Self.zeroHash
            var broken: (UInt64, String)?
            try txn.forEach(Self.entries) { key, entry in
                checked += 1
                if key != expectedSequence || entry.sequence != key {
                    broken = (expectedSequence, "entry \(expectedSequence) is missing (found \(key) next)")
                } else if entry.previousHash != previousHash {
                    broken = (key, "entry \(key) does not name the hash of the entry before it")
                } else if entry.hash != Self.hash(of: entry) {
                    broken = (key, "entry \(key) was changed after it was written (its hash does not match)")
                }
                previousHash = entry.hash
                expectedSequence = key + 1
                return broken == nil
            }
            if let broken {
                return Verification(entries: checked, firstBrokenSequence: broken.0, problem: broken.1)
            }
            let head = try txn.get(Self.head, "head")
            let lastSequence = expectedSequence - 1
            if (head?.sequence ?? 0) != lastSequence || (head?.hash ?? Self.zeroHash) != previousHash {
                let missing = (head?.sequence ?? 0) > lastSequence ? lastSequence + 1 : lastSequence
                return Verification(
                    entries: checked,
                    firstBrokenSequence: missing,
                    problem: "the log ends at entry \(lastSequence) but its head names entry \(head?.sequence ?? 0)"
                )
            }
            return Verification(entries: checked, firstBrokenSequence: nil, problem: nil)
        }
    }
}

/// A one-shot result that one task sets and another awaits (either may come first).
final class Completion: Sendable {
    private enum State {
        case pending
        case waiting(CheckedContinuation<UInt64, any Error>)
        case done(Result<UInt64, any Error>)
    }

    private let state = Mutex(State.pending)

    func finish(_ result: Result<UInt64, any Error>) {
        let waiter: CheckedContinuation<UInt64, any Error>? = state.withLock { state in
            switch state {
            case .pending:
                state = .done(result)
                return nil
            case .waiting(let continuation):
                state = .done(result)
                return continuation
            case .done:
                return nil
            }
        }
        waiter?.resume(with: result)
    }

    func value() async throws -> UInt64 {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<UInt64, any Error>? = state.withLock { state in
                switch state {
                case .pending:
                    state = .waiting(continuation)
                    return nil
                case .done(let result):
                    return result
                case .waiting:
                    preconditionFailure("a completion is awaited once")
                }
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}
