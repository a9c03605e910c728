// Shared by the fuzz targets (FuzzTesting/Sources/Fuzz*) and by the root package's
// BastionFuzzReplayTests, which compiles this folder as a test target: each check is the one entry
// point for both, so a saved input replayed by `swift test` goes through exactly what libFuzzer ran.

/// A parser broke one of its promises: it accepted what it must refuse, refused what it must accept,
/// failed with an error it documents it never throws, or answered differently from an independent
/// reading of the same bytes. The fuzz targets turn it into a crash; the replay tests into a failure.
public struct FuzzFinding: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Throws a ``FuzzFinding`` with `message` unless `condition` holds.
@inline(__always)
func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(FuzzFinding) {
    if !condition { throw FuzzFinding(message()) }
}

/// The fuzz inputs, split: the first byte picks a mode, the rest is the payload.
struct ModeAndPayload {
    var mode: UInt8
    var payload: [UInt8]

    init(_ input: [UInt8]) {
        mode = input.first ?? 0
        payload = Array(input.dropFirst())
    }
}
