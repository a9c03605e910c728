// The queue service fuzz target. libFuzzer calls `LLVMFuzzerTestOneInput` with each input.
//
// Every input is decoded as each queue request (Enqueue, Dequeue, Listen, GetKeyPackages), as a
// sealed envelope and as what a client receives (QueuedMessage, DequeueResponse): decodes that
// succeed must round-trip, well-shaped envelopes must open or fail cleanly, and queue ids
// accepted as well-formed must be 32 lower-case hex digits (`QueueInputs.check`, which traps
// when an invariant breaks). Nothing may trap.

@_spi(Fuzzing) import BastionQueue

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    QueueInputs.check(count == 0 ? [] : Array(UnsafeRawBufferPointer(start: start, count: count)))
    return 0
}

/// libFuzzer's driver, from the runtime that `-sanitize=fuzzer` links in.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ testOneInput: @convention(c) (UnsafeRawPointer?, Int) -> CInt
) -> CInt

/// Hands the command line to libFuzzer (fuzz.sh says why the target has its own entry point).
@main
enum FuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzz))
    }
}
