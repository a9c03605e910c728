import CSodium

/// Secret bytes (a key, a seed, a session key) whose storage is zeroed when the last copy of this
/// value goes away.
///
/// Copies of a `SecretBytes` share one buffer, so zeroing happens once, when no copy is left.
/// ``withUnsafeBytes(_:)`` lends the bytes without copying; ``bytes`` hands out an ordinary array,
/// which the caller then owns and should not keep longer than needed.
public struct SecretBytes: Sendable {
    private let storage: Storage

    /// Takes ownership of `bytes`.
    public init(_ bytes: [UInt8]) {
        self.storage = Storage(bytes)
    }

    /// The number of bytes.
    public var count: Int { storage.bytes.count }

    /// A copy of the bytes as an ordinary array. Prefer ``withUnsafeBytes(_:)`` where it will do.
    public var bytes: [UInt8] { storage.bytes }

    /// Lends the bytes to `body` without copying them.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let result: Result<R, E> = storage.bytes.withUnsafeBytes { buffer in
            do throws(E) {
                return .success(try body(buffer))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Compares with `other` in time that depends only on the lengths.
    public func constantTimeEquals(_ other: SecretBytes) -> Bool {
        Sodium.constantTimeEqual(storage.bytes, other.storage.bytes)
    }

    /// Compares with `other` in time that depends only on the lengths.
    public func constantTimeEquals(_ other: [UInt8]) -> Bool {
        Sodium.constantTimeEqual(storage.bytes, other)
    }

    /// The one heap buffer behind every copy. Written only in `init` and `deinit`, so sharing it
    /// across threads is safe.
    private final class Storage: @unchecked Sendable {
        var bytes: [UInt8]

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        deinit { Sodium.zeroize(&bytes) }
    }
}

extension SecretBytes: CustomStringConvertible, CustomDebugStringConvertible {
    /// Never the bytes themselves, so a secret cannot reach a log line by accident.
    public var description: String { "SecretBytes(\(count) bytes)" }
    public var debugDescription: String { description }
}
