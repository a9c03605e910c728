// The second-factor input fuzz target. libFuzzer calls `LLVMFuzzerTestOneInput` with each input.
//
// Every input, read as UTF-8 (invalid sequences replaced), goes through the parsers of what users
// type for second factors: channel codes with and without their prefix, access codes, channel
// addresses and their hints, security answers, and the second-factor challenge detail
// (`SecondFactorInputs.check`, which traps when an invariant breaks). Nothing may trap.

@_spi(Fuzzing) import BastionIdentity

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = count == 0 ? [] : Array(UnsafeRawBufferPointer(start: start, count: count))
    SecondFactorInputs.check(String(decoding: bytes, as: UTF8.self))
    return 0
}

/// libFuzzer's driver, from the runtime that `-sanitize=fuzzer` links in.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ testOneInput: @convention(c) (UnsafeRawPointer?, Int) -> CInt
) -> CInt

/// Hands the command line to libFuzzer: fuzz.sh builds without `-parse-as-library`, so a target
/// without its own entry point would get an empty top-level main and fuzz nothing.
@main
enum FuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzz))
    }
}
