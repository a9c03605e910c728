// The second-factor input fuzz target. libFuzzer calls `LLVMFuzzerTestOneInput` with each input.
//
// Every input, read as UTF-8 (invalid sequences replaced), goes through the parsers of what users
// type for second factors: channel codes with and without their prefix, access codes, channel
// addresses and their hints, security answers, and the second-factor challenge detail
// (`SecondFactorInputs.check`, which traps when an invariant breaks). Nothing may trap.

@_spi(Fuzzing) import BastionIdentity

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    SecondFactorInputs.check(text)
    return 0
}
