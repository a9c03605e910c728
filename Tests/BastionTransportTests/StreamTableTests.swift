@testable import BastionTransport
import Testing

/// The open-streams table: after any mix of inserts, replacements and removals it answers as a
/// `Dictionary` does, whatever the IDs (rising as a client hands them out, or clustered, or
/// colliding on purpose).
@Suite struct StreamTableTests {
    final class Stream {
        let id: UInt32
        init(_ id: UInt32) { self.id = id }
    }

    /// ID patterns: a client's rising IDs, every 16th (the same low bits), colliding high bits,
    /// and pseudo-random ones.
    static let patterns: [String] = ["rising", "stride16", "sameHighBits", "random"]

    static func ids(_ pattern: String, count: Int) -> [UInt32] {
        var state: UInt64 = 0x1234_5678
        return (0..<count).map { index in
            switch pattern {
            case "rising": return UInt32(index + 1)
            case "stride16": return UInt32(index * 16)
            case "sameHighBits": return 0xFFFF_0000 | UInt32(index)
            default:
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt32(truncatingIfNeeded: state >> 32)
            }
        }
    }

    @Test(arguments: patterns)
    func answersAsADictionaryDoes(pattern: String) {
        var table = StreamTable<Stream>()
        var oracle: [UInt32: Stream] = [:]
        let ids = Self.ids(pattern, count: 600)
        var random: UInt64 = 42
        for step in 0..<6_000 {
            random = random &* 6_364_136_223_846_793_005 &+ 1
            let id = ids[Int(random >> 33) % ids.count]
            switch step % 5 {
            case 0, 1, 2:
                let stream = Stream(id)
                table[id] = stream
                oracle[id] = stream
            case 3:
                table[id] = nil
                oracle[id] = nil
            default:
                #expect(table[id] === oracle[id])
            }
            #expect(table.count == oracle.count)
            #expect(table.isEmpty == oracle.isEmpty)
        }
        for id in ids { #expect(table[id] === oracle[id]) }
        #expect(Set(table.values.map(ObjectIdentifier.init)) == Set(oracle.values.map(ObjectIdentifier.init)))
        // Emptied one by one, every removal keeps the rest findable.
        for id in Set(ids) {
            table[id] = nil
            oracle[id] = nil
            for rest in oracle.keys.prefix(8) { #expect(table[rest] === oracle[rest]) }
        }
        #expect(table.isEmpty)
        #expect(table.values.isEmpty)
    }

    @Test func valuesIsASnapshotThatSurvivesRemovalWhileWalked() {
        var table = StreamTable<Stream>()
        for id in UInt32(1)...40 { table[id] = Stream(id) }
        var seen = 0
        for stream in table.values {
            table[stream.id] = nil
            seen += 1
        }
        #expect(seen == 40)
        #expect(table.isEmpty)
        table[7] = Stream(7)
        table.removeAll()
        #expect(table[7] == nil)
        #expect(table.count == 0)
    }

    @Test func streamIDZeroIsAKeyLikeAnyOther() {
        var table = StreamTable<Stream>()
        #expect(table[0] == nil)
        let zero = Stream(0)
        table[0] = zero
        #expect(table[0] === zero)
        table[0] = nil
        #expect(table[0] == nil)
    }
}
