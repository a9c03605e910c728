/// What the request phase of the interceptors sees of one request message, after the transport
/// reassembled it and before the handler reads it: its encoded bytes and the values of the fields
/// the method's policy names (owned resources, rate-limit keys, sealed envelopes).
///
/// Generated service code extracts the fields (the generator knows their types); methods
/// registered by hand pass none.
public struct RequestView: Sendable {
    public enum Phase: Sendable, Hashable {
        /// The one request of a unary or server-streaming call: the call starts with it.
        case onlyRequest
        /// A streaming-request call is about to reach its handler; no message yet.
        case callStart
        /// A message of a streaming-request call (0 for the first).
        case streamMessage(index: Int)

        /// Whether checks made once per call run now.
        public var startsCall: Bool { self == .onlyRequest || self == .callStart }
    }

    public var phase: Phase
    /// The request exactly as it arrived; nil at `callStart`.
    public var bytes: [UInt8]?
    /// The policy's request fields by their dotted name in the `.proto` (`queue.owner_id`). A field
    /// that is unset is absent. Only single-request methods have fields.
    public var fields: [String: RequestFieldValue]

    public init(phase: Phase, bytes: [UInt8]?, fields: [String: RequestFieldValue] = [:]) {
        self.phase = phase
        self.bytes = bytes
        self.fields = fields
    }
}

/// The value of a request field named by a policy.
public enum RequestFieldValue: Sendable, Hashable {
    /// A string field, or an integer field in decimal.
    case string(String)
    case bytes([UInt8])
    /// A `bastion.rpc.v1.SealedEnvelope` message field.
    case sealedEnvelope(RPCSealedEnvelope)

    /// The value as a rate-limit or ownership key: strings as they are, bytes in hex.
    public var key: String {
        switch self {
        case .string(let value): value
        case .bytes(let value): value.map { byte in String(byte, radix: 16).leftPadded(to: 2) }.joined()
        case .sealedEnvelope(let value): value.recipientKeyId.map { byte in String(byte, radix: 16).leftPadded(to: 2) }.joined()
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
