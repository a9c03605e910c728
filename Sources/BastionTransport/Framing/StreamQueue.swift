/// A FIFO queue that holds its first element inline and allocates only when a second one waits
/// behind it. A call's queues (requests not yet read, responses held back by flow control) are
/// nearly always empty or hold one element, so most calls never allocate for them.
///
/// The elements behind the first wait in a ring (a power-of-two array of optionals): a pop lets
/// its element go at once and never moves the others. (An array with a moving start kept popped
/// elements alive until it cut off its consumed prefix, so the connection's queue of calls
/// waiting for a handler task held on to finished calls, and the cut went through
/// `Array.replaceSubrange`.)
struct StreamQueue<Element> {
    private var head: Element?
    private var ring: [Element?] = []
    /// Where the ring's oldest element is, and how many it holds.
    private var ringStart = 0
    private var ringCount = 0
    /// Kept apart so that asking whether the queue is empty does not copy out `head` (a
    /// comparison of an optional with nil does, through generic value witnesses).
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    var first: Element? { head }

    /// Whether exactly one element waits.
    var hasOneElement: Bool { count == 1 }

    mutating func append(_ element: Element) {
        if count == 0 {
            head = element
        } else {
            if ringCount == ring.count { growRing() }
            ring[(ringStart + ringCount) & (ring.count - 1)] = element
            ringCount += 1
        }
        count += 1
    }

    @discardableResult
    mutating func popFirst() -> Element? {
        guard count > 0, let element = head.take() else { return nil }
        count -= 1
        if ringCount > 0 {
            head = ring[ringStart].take()
            ringStart = (ringStart + 1) & (ring.count - 1)
            ringCount -= 1
        }
        return element
    }

    mutating func removeFirst() {
        popFirst()
    }

    /// The element appended last (the first when it is alone).
    var last: Element? {
        ringCount > 0 ? ring[(ringStart + ringCount - 1) & (ring.count - 1)] : head
    }

    /// Doubles the ring (from four), its elements moved to the front in order.
    private mutating func growRing() {
        var grown = [Element?](repeating: nil, count: Swift.max(4, ring.count * 2))
        for offset in 0..<ringCount {
            grown[offset] = ring[(ringStart + offset) & (ring.count - 1)].take()
        }
        ring = grown
        ringStart = 0
    }
}
