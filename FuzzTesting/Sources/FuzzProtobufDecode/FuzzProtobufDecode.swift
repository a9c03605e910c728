// The protobuf decoding fuzz target. libFuzzer calls `fuzz` with each input (through FuzzDriver).
//
// Every input is decoded as each root message of the fuzz schema (`bastion/fuzz/v1/*.proto`) under
// several decoding options, and ``DecodeOracle`` checks what came out. A failed check calls
// `fatalError`, which libFuzzer reports as a crash, saving the input.

import FuzzDriver

func fuzz(_ input: UnsafeRawBufferPointer) {
    DecodeOracle<Bastion_Fuzz_V1_Fuzz3>().check(input)
    DecodeOracle<Bastion_Fuzz_V1_Fuzz2>().check(input)
}

@main
enum FuzzMain {
    static func main() {
        FuzzDriver.run(fuzz)
    }
}
