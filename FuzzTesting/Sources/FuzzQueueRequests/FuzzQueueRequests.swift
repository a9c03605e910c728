// The queue service fuzz target. libFuzzer calls `LLVMFuzzerTestOneInput` with each input.
//
// Every input is decoded as each queue request (Enqueue, Dequeue, Listen, GetKeyPackages), as a
// sealed envelope and as what a client receives (QueuedMessage, DequeueResponse): decodes that
// succeed must round-trip, well-shaped envelopes must open or fail cleanly, and queue ids
// accepted as well-formed must be 32 lower-case hex digits (`QueueInputs.check`, which traps
// when an invariant breaks). Nothing may trap.

@_spi(Fuzzing) import BastionQueue

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    QueueInputs.check(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
