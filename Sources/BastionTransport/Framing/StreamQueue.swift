/// A FIFO queue that holds its first element inline and allocates only when a second one waits
/// behind it. A call's queues (requests not yet read, responses held back by flow control) are
/// nearly always empty or hold one element, so most calls never allocate for them.
struct StreamQueue<Element> {
    private var head: Element?
    private var tail: [Element] = []
    /// Where `tail`'s live elements start; the consumed prefix is dropped when it gets long.
    private var tailStart = 0

    var isEmpty: Bool { head == nil }

    var first: Element? { head }

    /// Whether exactly one element waits.
    var hasOneElement: Bool { head != nil && tailStart == tail.count }

    mutating func append(_ element: Element) {
        if head == nil {
            head = element
        } else {
            tail.append(element)
        }
    }

    @discardableResult
    mutating func popFirst() -> Element? {
        guard let element = head else { return nil }
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
        } else {
            head = nil
        }
        return element
    }

    mutating func removeFirst() {
        popFirst()
    }

    /// Changes the first element in place.
    mutating func updateFirst(_ body: (inout Element) -> Void) {
        guard head != nil else { return }
        body(&head!)
    }

    /// Changes the last element in place.
    mutating func updateLast(_ body: (inout Element) -> Void) {
        if tailStart < tail.count {
            body(&tail[tail.count - 1])
        } else if head != nil {
            body(&head!)
        }
    }
}
