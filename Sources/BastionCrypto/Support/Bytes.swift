/// Byte-string helpers in the RFCs' own terms (I2OSP, concat, xor).
enum Bytes {
    /// I2OSP(value, 1).
    static func i2osp1(_ value: Int) -> [UInt8] {
        precondition(value >= 0 && value <= 0xFF, "I2OSP(\(value), 1) overflows")
        return [UInt8(value)]
    }

    /// I2OSP(value, 2), big-endian.
    static func i2osp2(_ value: Int) -> [UInt8] {
        precondition(value >= 0 && value <= 0xFFFF, "I2OSP(\(value), 2) overflows")
        return [UInt8(value >> 8), UInt8(value & 0xFF)]
    }

    /// The bytes of an ASCII label.
    static func ascii(_ label: StaticString) -> [UInt8] {
        label.withUTF8Buffer { Array($0) }
    }

    /// The byte-wise exclusive or of two strings of equal length.
    static func xor(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        precondition(a.count == b.count, "xor of unequal lengths")
        var out = [UInt8](repeating: 0, count: a.count)
        for i in 0..<a.count { out[i] = a[i] ^ b[i] }
        return out
    }
}
