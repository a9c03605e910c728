/// Checks a frame header against the protocol's rules and the receiver's limits before any of
/// its payload is read or buffered, so a hostile length never causes an allocation.
public struct FrameHeaderValidator: Sendable {
    public var limits: FrameLimits

    public init(limits: FrameLimits = FrameLimits()) {
        self.limits = limits
    }

    public func validate(_ header: FrameHeader) throws(FramingError) {
        guard header.type.isKnown else {
            throw FramingError(code: .unknownFrameType, message: "frame type 0x\(String(header.type.rawValue, radix: 16)) is not defined")
        }
        if header.type.isConnectionLevel {
            guard header.streamID == 0 else {
                throw FramingError(code: .wrongStream, message: "\(header.type) on stream \(header.streamID); it belongs to stream 0")
            }
        } else if header.type != .windowUpdate, header.streamID == 0 {
            throw FramingError(code: .wrongStream, message: "\(header.type) on stream 0; it belongs to a call")
        }
        let length = Int(header.payloadLength)
        switch header.type {
        case .message:
            guard length <= limits.maxFrameSize else {
                throw FramingError(code: .frameTooLarge, message: "MESSAGE payload of \(length) bytes exceeds max_frame_size \(limits.maxFrameSize)")
            }
        case .windowUpdate:
            guard length == 4 else {
                throw FramingError(code: .malformedPayload, message: "WINDOW_UPDATE payload must be 4 bytes, not \(length)")
            }
        case .ping:
            guard length == 8 else {
                throw FramingError(code: .malformedPayload, message: "PING payload must be 8 bytes, not \(length)")
            }
        case .halfClose:
            guard length == 0 else {
                throw FramingError(code: .malformedPayload, message: "HALF_CLOSE carries no payload, not \(length) bytes")
            }
        default:
            guard length <= limits.maxHeaderSize else {
                throw FramingError(code: .frameTooLarge, message: "\(header.type) payload of \(length) bytes exceeds max_header_size \(limits.maxHeaderSize)")
            }
        }
    }
}
