// The FuzzFrames fuzz target: libFuzzer hands each input (through FuzzDriver)
// to `FrameChecks.run` (Sources/FuzzChecks), the same check BastionFuzzReplayTests runs on the saved
// inputs in every `swift test`. A FuzzFinding becomes a crash, so libFuzzer saves the input.

import FuzzDriver
import FuzzChecks

@main
enum FuzzMain {
    static func main() {
        FuzzDriver.run(bytes: FrameChecks.run)
    }
}
