/// The ristretto255 prime-order group (RFC 9496), from libsodium's `crypto_core_ristretto255_*`
/// and `crypto_scalarmult_ristretto255*`.
///
/// ``Element`` values are always valid, canonical, non-identity encodings; ``Scalar`` values are
/// always below the group order and zeroed when no copy is left.
public enum Ristretto255 {
    /// The length of an encoded element (Noe, Npk).
    public static let elementLength = 32
    /// The length of an encoded scalar (Nok, Nsk).
    public static let scalarLength = 32
    /// The length of the uniform bytes the one-way map takes (RFC 9496 section 4.3.4).
    public static let uniformBytesLength = 64
}
