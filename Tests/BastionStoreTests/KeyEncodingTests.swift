import BastionStore
import Testing

@Suite struct KeyEncodingTests {
    /// Encodes whole keys and checks that byte order equals value order.
    func expectOrderPreserved<Key: StoreKey & Comparable>(_ values: [Key]) throws {
        let sorted = values.sorted()
        let encoded = sorted.map(\.storeKeyBytes)
        for (a, b) in zip(encoded, encoded.dropFirst()) {
            #expect(a.lexicographicallyPrecedes(b), "\(a) should sort before \(b)")
        }
        for value in values {
            #expect(try Key(storeKeyBytes: value.storeKeyBytes) == value)
        }
    }

    @Test func signedIntegersSortNumerically() throws {
        try self.expectOrderPreserved([Int64.min, -1_000_000, -256, -1, 0, 1, 255, 256, 1 << 40, Int64.max])
        try self.expectOrderPreserved([Int32.min, -1, 0, 1, Int32.max])
        try self.expectOrderPreserved([Int8.min, -1, 0, 1, Int8.max])
        try self.expectOrderPreserved([Int.min, -7, 0, 7, Int.max])
        #expect(Int64(-1).storeKeyBytes == [0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
    }

    @Test func unsignedIntegersAreBigEndian() throws {
        try self.expectOrderPreserved([UInt64.min, 1, 255, 256, 65_535, 1 << 40, UInt64.max])
        try self.expectOrderPreserved([UInt16.min, 1, 256, UInt16.max])
        #expect(UInt32(0x0102_0304).storeKeyBytes == [1, 2, 3, 4])
        #expect(UInt(5).storeKeyBytes.count == 8)
    }

    @Test func stringsAreTheirUTF8() throws {
        try self.expectOrderPreserved(["", "a", "a\u{0}", "a\u{0}b", "ab", "b", "é", "日本"])
        #expect("abc".storeKeyBytes == Array("abc".utf8))
    }

    @Test func delimitedStringsKeepOrderAndRoundTrip() throws {
        let values = ["", "a", "a\u{0}", "a\u{0}\u{0}", "a\u{1}", "ab", "b"]
        var previous: [UInt8]?
        for value in values.sorted() {
            var bytes: [UInt8] = []
            value.encodeStoreKey(into: &bytes, delimited: true)
            bytes.append(0xFF)  // whatever follows must not change the order
            if let previous {
                #expect(previous.lexicographicallyPrecedes(bytes))
            }
            previous = bytes
            var decodeBytes: [UInt8] = []
            value.encodeStoreKey(into: &decodeBytes, delimited: true)
            decodeBytes.append(42)
            let (decoded, next) = try decodeBytes.withUnsafeBytes { raw throws -> (String, UInt8) in
                var reader = StoreKeyReader(raw)
                return (try String(decodingStoreKey: &reader, delimited: true), try reader.readByte())
            }
            #expect(decoded == value)
            #expect(next == 42)
        }
    }

    @Test func compositeKeysSortByComponents() throws {
        let keys: [(String, UInt64)] = [("a", 2), ("a", 10), ("a\u{0}", 1), ("ab", 0), ("b", 0)]
        let encoded = keys.map { CompositeKey($0.0, $0.1).storeKeyBytes }
        for (a, b) in zip(encoded, encoded.dropFirst()) {
            #expect(a.lexicographicallyPrecedes(b))
        }
        let decoded = try CompositeKey<String, UInt64>(storeKeyBytes: encoded[2])
        #expect(decoded.components.0 == "a\u{0}")
        #expect(decoded.components.1 == 1)
        // The prefix of the first component is a byte prefix of every key that starts with it.
        let prefix = KeyPrefix("a")
        #expect(encoded[0].starts(with: prefix.bytes))
        #expect(encoded[1].starts(with: prefix.bytes))
        #expect(!encoded[2].starts(with: prefix.bytes))
        #expect(!encoded[3].starts(with: prefix.bytes))
    }

    @Test func malformedKeysThrowInvalidData() throws {
        let error = try #require(throws: StoreError.self) { try UInt32(storeKeyBytes: [1, 2, 3]) }
        #expect(error.code == .invalidData)
        let trailing = try #require(throws: StoreError.self) { try UInt16(storeKeyBytes: [1, 2, 3]) }
        #expect(trailing.code == .invalidData)
        let utf8 = try #require(throws: StoreError.self) { try String(storeKeyBytes: [0xFF, 0xFE]) }
        #expect(utf8.code == .invalidData)
    }

    @Test func valuesRoundTrip() throws {
        #expect(try Int64(storeBytes: Int64(-5).storeBytes()) == -5)
        #expect(try UInt16(storeBytes: UInt16(513).storeBytes()) == 513)
        #expect(try String(storeBytes: "hé".storeBytes()) == "hé")
        #expect(try [UInt8](storeBytes: [0, 1, 2]) == [0, 1, 2])
        #expect(try Bool(storeBytes: true.storeBytes()) == true)
        #expect(throws: StoreError.self) { try Int64(storeBytes: [1, 2]) }
    }
}
