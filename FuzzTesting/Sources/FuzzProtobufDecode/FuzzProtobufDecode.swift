// The protobuf decoding fuzz target. libFuzzer calls `LLVMFuzzerTestOneInput` with each input.
//
// Every input is decoded as each root message of the fuzz schema (`bastion/fuzz/v1/*.proto`) under
// several decoding options, and ``DecodeOracle`` checks what came out. A failed check calls
// `fatalError`, which libFuzzer reports as a crash, saving the input.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: start, count: count)
    DecodeOracle<Bastion_Fuzz_V1_Fuzz3>().check(input)
    DecodeOracle<Bastion_Fuzz_V1_Fuzz2>().check(input)
    return 0
}

/// libFuzzer's driver, from the runtime that `-sanitize=fuzzer` links in.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ testOneInput: @convention(c) (UnsafeRawPointer?, Int) -> CInt
) -> CInt

/// Hands the command line to libFuzzer.
///
/// libFuzzer has a `main` of its own, but SwiftPM links every Swift executable with its entry point
/// renamed (`--defsym main=<Module>_main`), so the target must define one; it runs the same driver
/// libFuzzer's `main` would.
@main
enum FuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzz))
    }
}
