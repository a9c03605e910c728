/// A FIFO queue that holds its first element inline and allocates only when a second one waits
/// behind it. A call's queues (requests not yet read, responses held back by flow control) are
/// nearly always empty or hold one element, so most calls never allocate for them.
struct StreamQueue<Element> {
    private var head: Element?
    private var tail: [Element] = []
    /// Where `tail`'s live elements start; the consumed prefix is dropped when it gets long.
    private var tailStart = 0
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
            tail.append(element)
        }
        count += 1
    }

    @discardableResult
    mutating func popFirst() -> Element? {
        guard count > 0, let element = head.take() else { return nil }
        count -= 1
        if tailStart < tail.count {
            head = tail[tailStart]
            tailStart += 1
            if tailStart == tail.count {
                tail.removeAll(keepingCapacity: true)
                tailStart = 0
            } else if tailStart >= 64, tailStart * 2 >= tail.count {
                tail.removeFirst(tailStart)
                tailStart = 0
            }
        }
        return element
    }

    mutating func removeFirst() {
        popFirst()
    }

    /// The element appended last (the first when it is alone).
    var last: Element? {
        tailStart < tail.count ? tail[tail.count - 1] : head
    }
}
