/// A connection's open streams by stream ID: what a `[UInt32: Stream]` did, for less.
///
/// A frame's stream is looked up for every frame, and a stream is added and removed once per
/// call. `Dictionary` hashes each `UInt32` key with SipHash through `Hasher` (about 130
/// instructions, and a dictionary operation around it), which made stream bookkeeping about
/// 1,000 instructions of a small unary call on its two ends. IDs come from the peer, so the table
/// must not degrade whatever IDs it is sent, but it need not resist an attacker who tries to
/// collide them: a connection holds at most its `maxConcurrentCalls` streams, so the worst case
/// is a longer probe over a few hundred slots, not a blow-up. It uses open addressing with
/// linear probing, a Fibonacci hash of the ID (a multiply and a shift) and backward-shift
/// deletion, and grows to keep at most half of its slots full.
///
/// `values` is a copy, as a dictionary's is: streams may be added or removed while it is walked.
struct StreamTable<Stream: AnyObject> {
    private var keys: [UInt32]
    /// nil marks a free slot, so any ID (0 too) can be a key.
    private var slots: [Stream?]
    private var shift: UInt32
    private(set) var count = 0

    init() {
        self.keys = Array(repeating: 0, count: Self.initialCapacity)
        self.slots = Array(repeating: nil, count: Self.initialCapacity)
        self.shift = UInt32(32 - Self.initialCapacity.trailingZeroBitCount)
    }

    static var initialCapacity: Int { 16 }

    var isEmpty: Bool { count == 0 }

    /// The open streams, in no particular order.
    var values: [Stream] { slots.compactMap { $0 } }

    subscript(id: UInt32) -> Stream? {
        get {
            guard count > 0 else { return nil }
            var index = home(id)
            while let stream = slots[index] {
                if keys[index] == id { return stream }
                index = (index + 1) & (slots.count - 1)
            }
            return nil
        }
        set {
            if let newValue { insert(newValue, for: id) } else { remove(id) }
        }
    }

    mutating func removeAll() {
        self = StreamTable()
    }

    /// The slot an ID's probe starts at: the top bits of the ID times 2^32 / φ.
    private func home(_ id: UInt32) -> Int {
        Int((id &* 0x9E37_79B1) >> shift)
    }

    private mutating func insert(_ stream: Stream, for id: UInt32) {
        var index = home(id)
        while slots[index] != nil {
            if keys[index] == id {
                slots[index] = stream
                return
            }
            index = (index + 1) & (slots.count - 1)
        }
        keys[index] = id
        slots[index] = stream
        count += 1
        if count * 2 > slots.count { grow() }
    }

    private mutating func remove(_ id: UInt32) {
        guard count > 0 else { return }
        let mask = slots.count - 1
        var index = home(id)
        while slots[index] != nil, keys[index] != id {
            index = (index + 1) & mask
        }
        guard slots[index] != nil else { return }
        slots[index] = nil
        count -= 1
        // Backward-shift deletion: move later members of the probe run into the hole when their
        // home slot is at or before it, so every lookup's run stays unbroken (no tombstones).
        var hole = index
        var next = (hole + 1) & mask
        while let moving = slots[next] {
            let distanceFromHome = (next - home(keys[next])) & mask
            let distanceToHole = (next - hole) & mask
            if distanceFromHome >= distanceToHole {
                keys[hole] = keys[next]
                slots[hole] = moving
                slots[next] = nil
                hole = next
            }
            next = (next + 1) & mask
        }
    }

    private mutating func grow() {
        let old = zip(keys, slots)
        let capacity = slots.count * 2
        keys = Array(repeating: 0, count: capacity)
        slots = Array(repeating: nil, count: capacity)
        shift -= 1
        count = 0
        for (id, stream) in old {
            if let stream { insert(stream, for: id) }
        }
    }
}
