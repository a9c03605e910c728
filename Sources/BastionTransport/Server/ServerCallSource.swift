import BastionRPC
import Logging
import NIOCore

/// The calls of one connection, as its task takes them from ``ServerConnectionHandler``.
///
/// It replaces an `NIOAsyncChannel`'s inbound stream, whose generic producer (a lock, a
/// back-pressure state machine, generic metadata looked up at run time) cost the server more per
/// call than the rest of the hand-off: here a call that has arrived is taken without a lock
/// when the task runs on the connection's event loop (the server's default), and the task
/// suspends only when no call is there. The connection's limit on concurrent calls bounds what
/// can wait here.
struct ServerCallSource: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<ServerConnectionHandler>

    /// The next call, or nil once the connection has closed. Cancelling the waiting task closes
    /// the connection.
    nonisolated(nonsending) func next() async -> ServerStream? {
        let eventLoop = channel.eventLoop
        if eventLoop.inEventLoop, let stream = handler.value.pollCall() { return stream }
        let handler = self.handler
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                if eventLoop.inEventLoop {
                    handler.value.awaitCall(continuation)
                } else {
                    eventLoop.execute { handler.value.awaitCall(continuation) }
                }
            }
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}

extension ServerCallSource {
    /// Runs `first` with `body`, then, in the same task, calls that arrive while this task waits
    /// idle: a read that starts a call finds a waiting task and resumes it, instead of creating a
    /// task (an allocation, its executor preference, joining and leaving the task group, about
    /// 3,500 instructions). A task that was cancelled (its call's deadline or a CANCEL) ends after
    /// that call, since cancellation cannot be undone; so does one that finds enough tasks idle,
    /// or the connection closed. Handlers that do not run on the connection's event loop get a
    /// task per call, as before. Between calls it takes those already waiting itself: the calls of
    /// one read wake one task (``ServerConnectionHandler``'s hand-over).
    ///
    /// It calls the router itself, not a closure: with ``RPCRouter/handle(route:path:transport:context:onUnexpectedError:)``
    /// inlined here, one `await` stands between this loop and the method's handler.
    nonisolated(nonsending) func runCalls(first: ServerStream, router: RPCRouter, logger: Logger) async {
        let current = ServerStream.HandlerTask.current
        var next: ServerStream? = first
        // The handler is the only `await` a call passes through here when the next call is already
        // waiting: each return from one costs an executor check, even when nothing suspended.
        while let stream = next.take() {
            stream.handlerStarts(in: current)
            await router.handle(route: stream.route, path: stream.path, transport: stream, context: stream.context) { error in
                logger.error("handler failed", metadata: ["method": "\(stream.path)", "error": "\(error)"])
            }
            stream.handlerEnded()
            if Task.isCancelled { return }
            // The next call for this task: one that is waiting, or the next to arrive; none when
            // the task runs away from the event loop (it then ends, as one that finds enough
            // tasks idle does).
            guard channel.eventLoop.inEventLoop else { return }
            let handler = self.handler.value
            if let waiting = handler.pollCall() {
                next = waiting
            } else {
                next = await withUnsafeContinuation { continuation in
                    handler.awaitCallWhileIdle(continuation)
                }
            }
        }
    }
}

/// An accepted connection: its channel and its calls.
struct ServerConnection: Sendable {
    let channel: any Channel
    let calls: ServerCallSource
}
