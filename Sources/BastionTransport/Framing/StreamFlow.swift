import BastionRPC
import NIOCore

/// Reassembles a stream's messages from MESSAGE frames (a message may span frames).
struct MessageAssembler {
    private var partial: [UInt8]?
    let maxMessageSize: Int

    init(maxMessageSize: Int) { self.maxMessageSize = maxMessageSize }

    /// Adds a frame's payload; returns the whole message once its last part arrived.
    mutating func append(_ payload: ByteBuffer, more: Bool) throws(RPCError) -> [UInt8]? {
        if partial == nil, !more {
            return Array(payload.readableBytesView)
        }
        var bytes = partial ?? []
        guard bytes.count + payload.readableBytes <= maxMessageSize else {
            partial = nil
            throw RPCError(code: .resourceExhausted, message: "message exceeds max_message_size \(maxMessageSize)")
        }
        bytes.append(contentsOf: payload.readableBytesView)
        if more {
            partial = bytes
            return nil
        }
        partial = nil
        return bytes
    }

    var isInsideMessage: Bool { partial != nil }
}

/// Credit received but not yet returned to the peer; returned in batches so that a stream of
/// small messages does not cost a WINDOW_UPDATE each.
struct ReceiveWindow {
    let initial: Int
    private(set) var available: Int
    private var consumedSinceUpdate = 0

    init(initial: Int) {
        self.initial = initial
        available = initial
    }

    /// Takes credit for an arriving payload; false when the peer sent more than it was allowed.
    mutating func receive(_ bytes: Int) -> Bool {
        guard bytes <= available else { return false }
        available -= bytes
        return true
    }

    /// Notes that the application consumed `bytes`; returns the increment to grant, if due.
    mutating func consume(_ bytes: Int) -> Int? {
        consumedSinceUpdate += bytes
        guard consumedSinceUpdate >= initial / 4 else { return nil }
        let increment = consumedSinceUpdate
        consumedSinceUpdate = 0
        available += increment
        return increment
    }
}

/// One outbound message (or trailer) waiting for flow-control credit or channel writability.
struct PendingSend {
    /// Encoded into the output when the send is written, not before (no buffer of its own).
    var header: RPCResponseHeader?
    var message: [UInt8]?
    var sent: Int = 0
    var endStream: Bool
    var trailer: RPCCallTrailer?
    var promise: EventLoopPromise<Void>?
}
