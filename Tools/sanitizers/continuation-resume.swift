// Resumes an UnsafeContinuation from a dispatch queue as soon as it exists, 20,000 times. Under
// ThreadSanitizer with Swift 6.3 on Linux this reports a data race between
// withUnsafeContinuation and UnsafeContinuation.resume(returning:): the concurrency runtime orders
// them, but it is not instrumented. The program has no race.
import Dispatch

let resumer = DispatchQueue(label: "resumer")

@main
struct ContinuationResume {
    static func main() async {
        var total = 0
        for value in 0..<20_000 {
            total &+= await withUnsafeContinuation { continuation in
                resumer.async { continuation.resume(returning: value) }
            }
        }
        print("finished with total", total)
    }
}
