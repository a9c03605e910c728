// The entry point every fuzz target shares: it hands the command line to libFuzzer's driver with
// the target's check, and turns a thrown error into a crash, which libFuzzer saves as a finding.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

public enum FuzzDriver {
    /// Runs libFuzzer with `check` on every input. A check reports a broken promise by throwing
    /// (or trapping); returning means the input was handled as it should be.
    public static func run(_ check: @escaping (UnsafeRawBufferPointer) throws -> Void) -> Never {
        currentCheck = check
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzzOneInput))
    }

    /// The same, for checks that take the input as an array.
    public static func run(bytes check: @escaping ([UInt8]) throws -> Void) -> Never {
        let raw: (UnsafeRawBufferPointer) throws -> Void = { try check(Array($0)) }
        run(raw)
    }
}

/// Set once, before libFuzzer starts, and only read afterwards (libFuzzer runs inputs one at a time
/// on one thread).
nonisolated(unsafe) private var currentCheck: (UnsafeRawBufferPointer) throws -> Void = { _ in }

/// libFuzzer's callback. Exported under its conventional name as well, so the binary also works
/// with tools that look for it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    do {
        try currentCheck(UnsafeRawBufferPointer(start: start, count: count))
    } catch {
        fatalError("\(error)")
    }
    return 0
}

/// libFuzzer's driver, from the runtime that `-sanitize=fuzzer` links in. libFuzzer has a `main` of
/// its own, but SwiftPM links every Swift executable with its entry point renamed
/// (`--defsym main=<Module>_main`), and fuzz.sh builds without `-parse-as-library`, so each target
/// defines `main` and calls this, as libFuzzer's `main` would.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ testOneInput: @convention(c) (UnsafeRawPointer?, Int) -> CInt
) -> CInt
