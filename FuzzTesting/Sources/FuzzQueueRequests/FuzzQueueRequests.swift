// The queue service fuzz target. libFuzzer calls `fuzz` with each input (through FuzzDriver).
//
// Every input is decoded as each queue request (Enqueue, Dequeue, Listen, GetKeyPackages), as a
// sealed envelope and as what a client receives (QueuedMessage, DequeueResponse): decodes that
// succeed must round-trip, well-shaped envelopes must open or fail cleanly, and queue ids
// accepted as well-formed must be 32 lower-case hex digits (`QueueInputs.check`, which traps
// when an invariant breaks). Nothing may trap.

import FuzzDriver

@_spi(Fuzzing) import BastionQueue

func fuzz(_ input: [UInt8]) {
    QueueInputs.check(input)
}

@main
enum FuzzMain {
    static func main() {
        FuzzDriver.run(bytes: fuzz)
    }
}
