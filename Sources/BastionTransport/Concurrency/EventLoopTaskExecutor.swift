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
public final class EventLoopTaskExecutor: TaskExecutor {
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
