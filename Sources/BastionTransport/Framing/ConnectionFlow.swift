import BastionProtobuf
import BastionRPC
import NIOCore

/// The frame-level state both ends of a connection keep alike: the output buffer where frames
/// gather until the next flush, the peer's settings, and flow-control credit both ways
/// (docs/PROTOCOL.md, sections 4 and 5). Lives on the connection's event loop.
struct ConnectionFlow {
    /// Frames written since the last flush; one write and flush sends them all.
    var outbound: ByteBuffer
    private var spare: ByteBuffer?
    /// Output at which a deferred flush happens at once instead.
    static let eagerFlushBytes = 64 << 10
    private(set) var peerSettings = ConnectionSettings()
    /// The most credit a window may hold (docs/PROTOCOL.md, section 4), as in HTTP/2: a peer that
    /// grants more is broken or hostile, and an unbounded window would overflow in the end.
    static let maxWindow = Int(Int32.max)
    /// Connection-level credit the peer has granted for our MESSAGE payloads.
    var sendWindow = ConnectionSettings().initialConnectionWindow
    /// Whether the channel takes more bytes now: kept by the connection handler from NIO's
    /// writability events, since reading `channel.isWritable` walks to the channel through the
    /// pipeline on every send.
    var channelWritable = false
    private var receiveWindow: ReceiveWindow

    init(localSettings: ConnectionSettings) {
        outbound = ByteBuffer()
        receiveWindow = ReceiveWindow(initial: localSettings.initialConnectionWindow)
    }

    /// Adopts the peer's SETTINGS (the connection's credit moves by the change of its initial
    /// window) and acknowledges them.
    mutating func applyPeerSettings(_ settings: RPCSettings) {
        let previous = peerSettings.initialConnectionWindow
        peerSettings = ConnectionSettings(peer: settings)
        sendWindow += peerSettings.initialConnectionWindow - previous
        outbound.writeFrame(.settings, flags: .ack, streamID: 0, payload: EmptyCollection())
    }

    /// `window` grown by a WINDOW_UPDATE's `increment`, or nil when that would exceed ``maxWindow``.
    static func grow(_ window: Int, by increment: Int) -> Int? {
        window <= maxWindow - increment ? window + increment : nil
    }

    /// Answers a PING with the same bytes.
    mutating func answerPing(_ frame: InboundFrame) {
        guard !frame.header.flags.contains(.ack) else { return }
        outbound.writeFrame(.ping, flags: .ack, streamID: 0, payload: frame.payload.readableBytesView)
    }

    /// Takes connection credit for an arriving MESSAGE payload; false when the peer overran it.
    mutating func receive(_ bytes: Int) -> Bool {
        receiveWindow.receive(bytes)
    }

    /// The application consumed `bytes` of a stream: return the credit, stream and connection,
    /// in batches.
    mutating func consumed(_ bytes: Int, streamID: UInt32, streamWindow: inout ReceiveWindow, streamOpen: Bool) {
        if let increment = streamWindow.consume(bytes), streamOpen {
            writeWindowUpdate(streamID, increment)
        }
        returnCredit(bytes)
    }

    /// Returns connection credit for bytes that will never reach an application (a call that
    /// already ended) or were buffered.
    mutating func returnCredit(_ bytes: Int) {
        if let increment = receiveWindow.consume(bytes) { writeWindowUpdate(0, increment) }
    }

    /// Writes as much of `message` (from `sent` on) as credit and the socket allow, as MESSAGE
    /// frames no larger than the peer's `max_frame_size`; `MORE` marks every part but the last,
    /// `END_STREAM` (when asked) the last. Returns whether the whole message is written.
    mutating func writeMessage(
        _ message: [UInt8],
        sent: inout Int,
        streamID: UInt32,
        streamWindow: inout Int,
        endStream: Bool
    ) -> Bool {
        if message.isEmpty, sent == 0 {
            outbound.writeFrame(.message, flags: endStream ? .endStream : [], streamID: streamID, payload: EmptyCollection())
            return true
        }
        while sent < message.count {
            let allowed = min(streamWindow, sendWindow, peerSettings.frameLimits.maxFrameSize)
            // A full output buffer on an unwritable channel waits for writability.
            guard allowed > 0, channelWritable || outbound.readableBytes == 0 else { return false }
            let chunk = min(allowed, message.count - sent)
            let last = sent + chunk == message.count
            var flags: FrameFlags = last ? [] : .more
            if last, endStream { flags.insert(.endStream) }
            message.withUnsafeBytes { bytes in
                outbound.writeFrame(.message, flags: flags, streamID: streamID, bytes: UnsafeRawBufferPointer(rebasing: bytes[sent..<(sent + chunk)]))
            }
            sent += chunk
            streamWindow -= chunk
            sendWindow -= chunk
        }
        return true
    }

    /// Whether a message of `size` bytes goes out at once as one MESSAGE frame: the peer's
    /// `max_frame_size` and both windows hold it, and the channel takes more.
    func sendsInOneFrame(_ size: Int, streamWindow: Int) -> Bool {
        size <= peerSettings.frameLimits.maxFrameSize && size <= streamWindow && size <= sendWindow && channelWritable
    }

    /// Writes a message of `size` bytes, which `encode` fills in place, as one MESSAGE frame
    /// (`END_STREAM` when asked), once ``sendsInOneFrame(_:streamWindow:)`` said it goes out at once.
    /// `then` is a frame without payload to write behind it (an empty OK trailer).
    mutating func writeMessage(
        size: Int,
        streamID: UInt32,
        streamWindow: inout Int,
        endStream: Bool = false,
        then next: FrameHeader? = nil,
        encode: (UnsafeMutableRawBufferPointer) -> Void
    ) {
        outbound.writeFrame(
            .message, flags: endStream ? .endStream : [], streamID: streamID, payloadSize: size, then: next, encode: encode
        )
        streamWindow -= size
        sendWindow -= size
    }

    mutating func writeWindowUpdate(_ streamID: UInt32, _ increment: Int) {
        outbound.writeFrameHeader(FrameHeader(payloadLength: 4, type: .windowUpdate, streamID: streamID))
        outbound.writeInteger(UInt32(increment))
    }

    /// Takes the frames gathered so far for writing, leaving an empty buffer in their place (the
    /// one last recycled, so the output storage is reused from flush to flush).
    mutating func takeOutbound() -> ByteBuffer {
        var taken = spare ?? ByteBufferAllocator().buffer(capacity: 4096)
        spare = nil
        swap(&taken, &outbound)
        return taken
    }

    /// Keeps a written buffer for the next ``takeOutbound()``. The TLS handler encrypts what it
    /// is given at once, so the storage is usually free again; if not, `clear` copies on write.
    mutating func recycle(_ buffer: consuming ByteBuffer) {
        guard buffer.capacity <= 1 << 20 else { return }  // after a burst: let it go
        buffer.clear()
        spare = buffer
    }
}
