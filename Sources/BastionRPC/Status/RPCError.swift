/// How a call ended when it did not succeed: one of gRPC's status codes, a message for people,
/// and details a client can act on.
public struct RPCError: Error, Sendable, CustomStringConvertible {
    /// A status code; the numbers are gRPC's (and the wire's `StatusCode`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The number on the wire.
        public let rawValue: Int

        /// Wraps a wire number; numbers outside 1-16 become ``unknown``.
        public init(rawValue: Int) {
            self.rawValue = (1...16).contains(rawValue) ? rawValue : 2
        }

        private init(_ rawValue: Int, unchecked: Void) { self.rawValue = rawValue }

        public static let cancelled = Code(1, unchecked: ())
        public static let unknown = Code(2, unchecked: ())
        public static let invalidArgument = Code(3, unchecked: ())
        public static let deadlineExceeded = Code(4, unchecked: ())
        public static let notFound = Code(5, unchecked: ())
        public static let alreadyExists = Code(6, unchecked: ())
        public static let permissionDenied = Code(7, unchecked: ())
        public static let resourceExhausted = Code(8, unchecked: ())
        public static let failedPrecondition = Code(9, unchecked: ())
        public static let aborted = Code(10, unchecked: ())
        public static let outOfRange = Code(11, unchecked: ())
        public static let unimplemented = Code(12, unchecked: ())
        public static let `internal` = Code(13, unchecked: ())
        public static let unavailable = Code(14, unchecked: ())
        public static let dataLoss = Code(15, unchecked: ())
        public static let unauthenticated = Code(16, unchecked: ())

        private static let names = [
            "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
            "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
            "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
        ]

        public var description: String { Self.names[rawValue] }
    }

    public var code: Code
    public var message: String
    /// When the client may try again (rate limits, lockouts, drain).
    public var retryAfter: Duration?
    /// The challenge to solve when the method needs a second factor bound to this call.
    public var secondFactorChallenge: String?
    /// Which policy property refused the call, when a policy did.
    public var policy: String?
    /// The proof of work the method wants, in leading zero bits (docs/POLICY.md).
    public var proofOfWorkDifficulty: UInt32?
    /// Trailer metadata sent with the error.
    public var metadata: Metadata
    /// The underlying error, for logs; never sent to the peer.
    public var cause: (any Error)?

    public init(
        code: Code,
        message: String,
        retryAfter: Duration? = nil,
        secondFactorChallenge: String? = nil,
        policy: String? = nil,
        proofOfWorkDifficulty: UInt32? = nil,
        metadata: Metadata = Metadata(),
        cause: (any Error)? = nil
    ) {
        self.proofOfWorkDifficulty = proofOfWorkDifficulty
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
        self.secondFactorChallenge = secondFactorChallenge
        self.policy = policy
        self.metadata = metadata
        self.cause = cause
    }

    public var description: String {
        var text = "\(code): \(message)"
        if let retryAfter { text += " (retry after \(retryAfter))" }
        return text
    }
}

extension RPCCallTrailer {
    /// The trailer of a call that succeeded, with the handler's trailer metadata.
    public static func ok(metadata: Metadata) -> RPCCallTrailer {
        var trailer = RPCCallTrailer()
        trailer.metadata = metadata.entries
        return trailer
    }
}

extension RPCError {
    /// The trailer that carries this error.
    public var trailer: RPCCallTrailer {
        var trailer = RPCCallTrailer()
        trailer.code = RPCStatusCode(rawValue: Int32(code.rawValue))
        trailer.message = message
        if retryAfter != nil || secondFactorChallenge != nil || policy != nil || proofOfWorkDifficulty != nil {
            var details = RPCErrorDetails()
            if let retryAfter {
                let milliseconds = retryAfter / .milliseconds(1)
                details.retryAfterMillis = UInt64(max(0, milliseconds.rounded(.up)))
            }
            details.secondFactorChallenge = secondFactorChallenge ?? ""
            details.policy = policy ?? ""
            details.proofOfWorkDifficulty = proofOfWorkDifficulty ?? 0
            trailer.details = details
        }
        trailer.metadata = metadata.entries
        return trailer
    }

    /// The error a non-OK trailer describes; nil for OK.
    public init?(trailer: RPCCallTrailer) {
        guard trailer.code.rawValue != 0 else { return nil }
        self.init(code: Code(rawValue: Int(trailer.code.rawValue)), message: trailer.message)
        if let details = trailer.details {
            if details.retryAfterMillis > 0 { retryAfter = .milliseconds(Int64(clamping: details.retryAfterMillis)) }
            if !details.secondFactorChallenge.isEmpty { secondFactorChallenge = details.secondFactorChallenge }
            if !details.policy.isEmpty { policy = details.policy }
            if details.proofOfWorkDifficulty > 0 { proofOfWorkDifficulty = details.proofOfWorkDifficulty }
        }
        metadata = Metadata(unchecked: trailer.metadata)
    }
}
