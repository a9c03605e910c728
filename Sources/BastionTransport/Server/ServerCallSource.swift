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

/// An accepted connection: its channel and its calls.
struct ServerConnection: Sendable {
    let channel: any Channel
    let calls: ServerCallSource
}
