/// An error raised while decoding protobuf bytes.
///
/// Decoding never traps on malformed input: every problem surfaces as one of these, naming what went
/// wrong and the byte offset (from the start of the outermost message) where it was noticed.
public struct ProtobufError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of problem this is. A struct over a private enum, so codes can be added later
    /// without breaking exhaustive switches in users' code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        @usableFromInline
        enum Wrapped: Hashable, Sendable {
            case truncated
            case malformedVarint
            case invalidWireType
            case invalidFieldNumber
            case invalidLength
            case invalidUTF8
            case unmatchedEndGroup
            case depthLimitExceeded
            case messageTooLarge
            case missingRequiredField
        }

        @usableFromInline
        let wrapped: Wrapped

        @inlinable
        init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The input ended in the middle of a field.
        public static let truncated = Code(.truncated)
        /// A varint ran longer than ten bytes.
        public static let malformedVarint = Code(.malformedVarint)
        /// A tag carried wire type 6 or 7, which do not exist.
        public static let invalidWireType = Code(.invalidWireType)
        /// A tag carried field number 0 or one above 2^29 - 1.
        public static let invalidFieldNumber = Code(.invalidFieldNumber)
        /// A length prefix was negative or pointed past the end of the input.
        public static let invalidLength = Code(.invalidLength)
        /// A `string` field held bytes that are not UTF-8.
        public static let invalidUTF8 = Code(.invalidUTF8)
        /// An end-group tag did not close the group that was open.
        public static let unmatchedEndGroup = Code(.unmatchedEndGroup)
        /// Messages or groups were nested deeper than ``ProtobufDecodingOptions/maxDepth``.
        public static let depthLimitExceeded = Code(.depthLimitExceeded)
        /// The input is larger than ``ProtobufDecodingOptions/maxMessageSize``.
        public static let messageTooLarge = Code(.messageTooLarge)
        /// A proto2 `required` field was absent.
        public static let missingRequiredField = Code(.missingRequiredField)

        public var description: String {
            switch wrapped {
            case .truncated: "truncated"
            case .malformedVarint: "malformed varint"
            case .invalidWireType: "invalid wire type"
            case .invalidFieldNumber: "invalid field number"
            case .invalidLength: "invalid length"
            case .invalidUTF8: "invalid UTF-8"
            case .unmatchedEndGroup: "unmatched end group"
            case .depthLimitExceeded: "depth limit exceeded"
            case .messageTooLarge: "message too large"
            case .missingRequiredField: "missing required field"
            }
        }
    }

    /// What kind of problem this is.
    public var code: Code
    /// A sentence for people: what was wrong and, where known, in which field.
    public var message: String
    /// The byte offset at which the problem was noticed, when it concerns a position in the input.
    public var offset: Int?

    @inlinable
    public init(code: Code, message: String, offset: Int? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    public var description: String {
        if let offset {
            return "protobuf decoding failed (\(code)) at byte \(offset): \(message)"
        }
        return "protobuf decoding failed (\(code)): \(message)"
    }
}
