public import NIOCore

/// A task executor that runs jobs on one event loop.
///
/// A task that prefers it (`withTaskExecutorPreference`, or `addTask(executorPreference:)`) runs
/// on the event loop's thread, so a call's transport operations reach the connection's state
/// without a thread hop, and a wake-up from the connection resumes it on the same thread.
/// `BastionServer` runs each connection's handlers on it (see
/// ``BastionServer/Configuration/runsHandlersOnEventLoops``); clients can run calling tasks on
/// ``BastionClientConnection/taskExecutor``. Work that computes for long or blocks does not belong
/// on it: it holds up every connection of the event loop.
///
/// Jobs enqueued from the event loop's own thread (a call's task started by the connection's
/// task, a handler woken by a frame) gather in a local queue that one event-loop task runs, so a
/// read that starts sixteen calls costs one `execute` (a closure allocation and the loop's task
/// lock) instead of sixteen. Jobs enqueued then run together, in order, when the loop gets to
/// that task; jobs enqueued while they run wait for the next one, so a task that yields still lets
/// the loop's other work run first. Jobs from other threads go through `execute` each.
public final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    public let eventLoop: any EventLoop

    // Touched only on the event loop's thread, and never two accesses at once (a job that runs
    // may enqueue, which appends to `localJobs` while `runningJobs` is read), so the run-time
    // exclusivity check, one per enqueued job, is switched off.
    @exclusivity(unchecked) private var localJobs: [UnownedJob] = []
    @exclusivity(unchecked) private var runningJobs: [UnownedJob] = []
    @exclusivity(unchecked) private var localRunScheduled = false

    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        guard eventLoop.inEventLoop else {
            eventLoop.execute {
                job.runSynchronously(on: self.asUnownedTaskExecutor())
            }
            return
        }
        localJobs.append(job)
        if !localRunScheduled {
            localRunScheduled = true
            eventLoop.execute { self.runLocalJobs() }
        }
    }

    /// Runs the jobs enqueued on the loop so far; those they enqueue wait for the next run.
    private func runLocalJobs() {
        localRunScheduled = false
        swap(&localJobs, &runningJobs)
        let executor = asUnownedTaskExecutor()
        var index = 0
        while index < runningJobs.count {
            runningJobs[index].runSynchronously(on: executor)
            index += 1
        }
        runningJobs.removeAll(keepingCapacity: true)
    }
}
