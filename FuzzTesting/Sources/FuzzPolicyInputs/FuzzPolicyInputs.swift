// The FuzzPolicyInputs fuzz target: libFuzzer calls `LLVMFuzzerTestOneInput` with each input, which goes
// through `PolicyInputChecks.run` (Sources/FuzzChecks), the same check BastionFuzzReplayTests runs on the saved
// inputs in every `swift test`. A FuzzFinding becomes a crash, so libFuzzer saves the input.

import FuzzChecks

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = count == 0 ? [] : Array(UnsafeRawBufferPointer(start: start, count: count))
    do {
        try PolicyInputChecks.run(input)
    } catch {
        fatalError("\(error)")
    }
    return 0
}

/// libFuzzer's driver, from the runtime that `-sanitize=fuzzer` links in.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ testOneInput: @convention(c) (UnsafeRawPointer?, Int) -> CInt
) -> CInt

/// Hands the command line to libFuzzer (see FuzzProtobufDecode for why the target has its own `main`).
@main
enum FuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzz))
    }
}
