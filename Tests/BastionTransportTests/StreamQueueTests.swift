@testable import BastionTransport
import Testing

/// The per-call queue: first-in first-out whatever mix of appends and pops, with in-place edits
/// of its ends.
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

    @Test func editsTheFirstAndTheLastInPlace() {
        var queue = StreamQueue<Int>()
        queue.updateLast { $0 = 99 }  // empty: nothing to edit
        #expect(queue.isEmpty)
        queue.append(1)
        queue.updateLast { $0 += 10 }
        #expect(queue.first == 11)
        queue.append(2)
        queue.append(3)
        queue.updateFirst { $0 += 100 }
        queue.updateLast { $0 += 1_000 }
        #expect(queue.popFirst() == 111)
        #expect(queue.popFirst() == 2)
        #expect(queue.popFirst() == 1_003)
        #expect(queue.isEmpty)
    }
}
