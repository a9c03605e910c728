// Four threads append to a Mutex-protected array, holding the lock long enough that it is
// contended. Under ThreadSanitizer on Linux this reports "Swift access race" on the array, because
// Synchronization's Mutex hands a contended lock over in the kernel (a priority-inheriting futex),
// where ThreadSanitizer does not see the hand-over. The program has no race.
import Foundation
import Synchronization

final class Shared: @unchecked Sendable { let values = Mutex<[Int]>([]) }
let shared = Shared()
let threads = (0..<4).map { index in
    Thread {
        for round in 0..<3000 {
            shared.values.withLock { values in
                var sum = 0
                for step in 0..<2000 { sum &+= step &* round }
                values.append(sum + index)
                if values.count > 100 { values.removeAll() }
            }
        }
    }
}
threads.forEach { $0.start() }
Thread.sleep(forTimeInterval: 10)
print("finished with", shared.values.withLock { $0.count }, "values")
