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
            // One copy of the bytes (`Array(readableBytesView)` walks the view generically).
            return payload.withUnsafeReadableBytes { Array($0) }
        }
        var bytes = partial ?? []
        guard bytes.count + payload.readableBytes <= maxMessageSize else {
            partial = nil
            throw RPCError(code: .resourceExhausted, message: "message exceeds max_message_size \(maxMessageSize)")
        }
        payload.withUnsafeReadableBytes { bytes.append(contentsOf: $0) }
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
///
/// A class: a call's queue holds its first entry inline (``StreamQueue``), and an optional of a
/// multi-field struct is copied and destroyed through generic value witnesses (about 80
/// instructions each, several per call even when nothing waits), where an optional reference
/// is one pointer. Entries are made only when a send has to wait.
final class PendingSend {
    /// Encoded into the output when the send is written, not before (no buffer of its own).
    var header: RPCResponseHeader?
    var message: [UInt8]?
    /// How many of `message`'s bytes are written.
    var sent: Int
    let endStream: Bool
    let trailer: RPCCallTrailer?
    var promise: EventLoopPromise<Void>?

    init(header: RPCResponseHeader? = nil, message: [UInt8]?, sent: Int = 0, endStream: Bool, trailer: RPCCallTrailer? = nil) {
        self.header = header
        self.message = message
        self.sent = sent
        self.endStream = endStream
        self.trailer = trailer
    }
}
