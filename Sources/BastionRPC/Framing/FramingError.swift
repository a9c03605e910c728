/// A violation of the framing rules: a connection error (docs/PROTOCOL.md, section 6). The
/// connection answers with GOAWAY and closes.
public struct FramingError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case frameTooLarge, unknownFrameType, wrongStream, malformedPayload, messageTooLarge, interleavedMessage
        }

        private let wrapped: Wrapped

        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// A payload longer than the receiver's `max_frame_size` (or `max_header_size`).
        public static let frameTooLarge = Code(.frameTooLarge)
        /// A frame type protocol version 1 does not define.
        public static let unknownFrameType = Code(.unknownFrameType)
        /// A connection-level frame on a call's stream, or a call frame on stream 0.
        public static let wrongStream = Code(.wrongStream)
        /// A payload of the wrong shape for its type.
        public static let malformedPayload = Code(.malformedPayload)
        /// A message whose parts add up to more than `max_message_size`.
        public static let messageTooLarge = Code(.messageTooLarge)
        /// Another frame of a stream between the parts of one of its messages.
        public static let interleavedMessage = Code(.interleavedMessage)

        public var description: String {
            switch wrapped {
            case .frameTooLarge: "frame too large"
            case .unknownFrameType: "unknown frame type"
            case .wrongStream: "wrong stream"
            case .malformedPayload: "malformed payload"
            case .messageTooLarge: "message too large"
            case .interleavedMessage: "interleaved message"
            }
        }
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "framing error (\(code)): \(message)" }
}
