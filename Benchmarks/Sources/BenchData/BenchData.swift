/// The content every codec encodes: plain values drawn from a fixed SplitMix64 sequence, so the
/// Bastion, SwiftProtobuf and C++ (Benchmarks/cpp/codec_bench.cc) messages hold the same data.
/// The programs print a checksum of the encoded bytes to show it.
public struct SplitMix64 {
    var state: UInt64

    public init(seed: UInt64) { self.state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound`.
    public mutating func below(_ bound: UInt64) -> UInt64 { next() % bound }

    /// Lowercase ASCII letters, `length` of them.
    public mutating func word(_ length: Int) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(length)
        for _ in 0..<length { bytes.append(UInt8(ascii: "a") + UInt8(below(26))) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A double with a fractional part, in about -1e6...1e6.
    public mutating func double() -> Double {
        Double(Int64(below(2_000_000_000)) - 1_000_000_000) / 1000.0
    }
}

public struct SmallData {
    public var id: Int32
    public var timestamp: Int64
    public var active: Bool
    public var score: Double
    public var name: String
    public var flags: UInt32

    public static func make(_ rng: inout SplitMix64) -> SmallData {
        SmallData(
            id: Int32(rng.below(1_000_000)),
            timestamp: 1_700_000_000_000 + Int64(rng.below(1_000_000_000)),
            active: rng.below(2) == 1,
            score: rng.double(),
            name: rng.word(12),
            flags: UInt32(rng.below(1 << 20))
        )
    }
}

public struct ItemData {
    public var id: Int64
    public var title: String
    public var tags: [String]
    public var price: Double
    public var quantity: UInt32
    public var attributes: [(key: String, value: String)]
}

public struct NestedData {
    public var id: String
    public var kind: Int32
    public var street: String
    public var city: String
    public var country: String
    public var postalCode: UInt32
    public var items: [ItemData]
    public var scores: [Int32]
    public var checksum: [UInt8]
    public var header: SmallData

    public static func make(seed: UInt64 = 2) -> NestedData {
        var rng = SplitMix64(seed: seed)
        let id = rng.word(24)
        let street = rng.word(20)
        let city = rng.word(10)
        let country = rng.word(2)
        let postalCode = UInt32(rng.below(100_000))
        var items = [ItemData]()
        for _ in 0..<20 {
            let itemID = Int64(rng.below(1 << 40))
            let title = rng.word(24)
            var tags = [String]()
            for _ in 0..<3 { tags.append(rng.word(8)) }
            let price = rng.double()
            let quantity = UInt32(rng.below(500))
            var attributes = [(key: String, value: String)]()
            for _ in 0..<2 { attributes.append((key: rng.word(6), value: rng.word(14))) }
            items.append(
                ItemData(id: itemID, title: title, tags: tags, price: price, quantity: quantity, attributes: attributes)
            )
        }
        var scores = [Int32]()
        for _ in 0..<64 { scores.append(Int32(rng.below(100_000))) }
        var checksum = [UInt8]()
        for _ in 0..<32 { checksum.append(UInt8(rng.below(256))) }
        let header = SmallData.make(&rng)
        return NestedData(
            id: id, kind: 1, street: street, city: city, country: country, postalCode: postalCode,
            items: items, scores: scores, checksum: checksum, header: header
        )
    }
}

public struct LargeData {
    public var ids: [Int64]
    public var deltas: [Int32]
    public var values: [Double]
    public var counters: [UInt32]
    public var labels: [String]
    public var records: [SmallData]

    public static func make(seed: UInt64 = 3) -> LargeData {
        var rng = SplitMix64(seed: seed)
        var data = LargeData(ids: [], deltas: [], values: [], counters: [], labels: [], records: [])
        for _ in 0..<20_000 { data.ids.append(Int64(rng.below(1 << 35))) }
        for _ in 0..<20_000 { data.deltas.append(Int32(Int64(rng.below(200_000)) - 100_000)) }
        for _ in 0..<20_000 { data.values.append(rng.double()) }
        for _ in 0..<20_000 { data.counters.append(UInt32(truncatingIfNeeded: rng.next())) }
        for _ in 0..<10_000 { data.labels.append(rng.word(8 + Int(rng.below(40)))) }
        for _ in 0..<5_000 { data.records.append(SmallData.make(&rng)) }
        return data
    }
}

/// FNV-1a over bytes: a cheap fingerprint to show that the codecs produced the same bytes.
public func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash &*= 0x100_0000_01b3
    }
    return hash
}
