// The second-factor input fuzz target. libFuzzer calls `fuzz` with each input (through FuzzDriver).
//
// Every input, read as UTF-8 (invalid sequences replaced), goes through the parsers of what users
// type for second factors: channel codes with and without their prefix, access codes, channel
// addresses and their hints, security answers, and the second-factor challenge detail
// (`SecondFactorInputs.check`, which traps when an invariant breaks). Nothing may trap.

import FuzzDriver

@_spi(Fuzzing) import BastionIdentity

func fuzz(_ input: UnsafeRawBufferPointer) {
    SecondFactorInputs.check(String(decoding: input, as: UTF8.self))
}

@main
enum FuzzMain {
    static func main() {
        FuzzDriver.run(fuzz)
    }
}
