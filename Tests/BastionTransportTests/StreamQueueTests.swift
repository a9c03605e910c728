@testable import BastionTransport
import Testing

/// The per-call queue: first-in first-out whatever mix of appends and pops, and its last element
/// wherever it is kept.
@Suite struct StreamQueueTests {
    @Test(arguments: [1, 2, 3, 65, 200])
    func keepsOrderAcrossInterleavedAppendsAndPops(burst: Int) {
        var queue = StreamQueue<Int>()
        var expected: [Int] = []
        var next = 0
        for round in 0..<50 {
            for _ in 0..<burst {
                queue.append(next)
                expected.append(next)
                next += 1
            }
            for _ in 0..<(round % 2 == 0 ? burst / 2 + 1 : burst) {
                #expect(queue.first == expected.first)
                #expect(queue.popFirst() == (expected.isEmpty ? nil : expected.removeFirst()))
            }
            #expect(queue.isEmpty == expected.isEmpty)
        }
        while let value = queue.popFirst() { #expect(value == expected.removeFirst()) }
        #expect(expected.isEmpty)
        #expect(queue.popFirst() == nil)
    }

    @Test func readsItsLastElementWhereverItIs() {
        var queue = StreamQueue<Int>()
        #expect(queue.last == nil)
        queue.append(1)
        #expect(queue.last == 1)  // alone, inline
        queue.append(2)
        queue.append(3)
        #expect(queue.last == 3)  // behind the first
        #expect(queue.popFirst() == 1)
        #expect(queue.popFirst() == 2)
        #expect(queue.last == 3)  // the tail's last one moved to the front
        #expect(queue.popFirst() == 3)
        #expect(queue.last == nil)
    }

    /// A popped element is let go at once, wherever it waited: a connection's queue of calls
    /// must not keep finished calls alive.
    @Test func releasesWhatItPops() {
        final class Marker {}
        var queue = StreamQueue<Marker>()
        var watched: [Weak] = []
        for _ in 0..<10 {
            let marker = Marker()
            watched.append(Weak(marker))
            queue.append(marker)
        }
        for index in 0..<10 {
            #expect(queue.popFirst() != nil)
            #expect(watched[index].object == nil)
            if index + 1 < 10 { #expect(watched[index + 1].object != nil) }
        }
        #expect(queue.isEmpty)
    }

    private struct Weak {
        weak var object: AnyObject?
        init(_ object: AnyObject) { self.object = object }
    }
}
