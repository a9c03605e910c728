import NIOCore

/// The output side both connection handlers share: frames gather in `flow.outbound` while an
/// event-loop turn runs and go out in one write and flush, scheduled behind what the loop has
/// queued (other calls' frames among it), or at once past ``ConnectionFlow/eagerFlushBytes``.
/// Lives on the connection's event loop.
protocol FrameOutput: AnyObject {
    var flow: ConnectionFlow { get set }
    /// Whether a flush is queued on the event loop.
    var flushScheduled: Bool { get set }
    /// nil until the handler is in a pipeline.
    var outputContext: ChannelHandlerContext? { get }
}

extension FrameOutput {
    /// Writes and flushes what has gathered.
    func flushOutbound() {
        guard let context = outputContext, flow.outbound.readableBytes > 0 else { return }
        // Taken out first: writing may reenter the handler (writability), which then finds an
        // empty buffer to gather frames in.
        let buffer = flow.takeOutbound()
        context.writeAndFlush(NIOAny(buffer), promise: nil)
        flow.recycle(buffer)
    }

    /// Flushes once the event loop has run what is queued now, so that the frames of one turn go
    /// out in one write.
    func scheduleFlush() {
        if flow.outbound.readableBytes >= ConnectionFlow.eagerFlushBytes {
            flushOutbound()  // enough to be worth a write of its own (a streaming handler's burst)
            return
        }
        guard !flushScheduled, flow.outbound.readableBytes > 0, let context = outputContext else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute {
            self.flushScheduled = false
            self.flushOutbound()
        }
    }
}
