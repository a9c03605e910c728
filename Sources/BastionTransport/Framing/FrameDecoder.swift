public import BastionRPC
public import NIOCore

/// A frame as read off the wire: its header and its payload, not yet interpreted.
public struct InboundFrame: Sendable {
    public var header: FrameHeader
    public var payload: ByteBuffer
}

/// Splits the byte stream into frames. Each header is validated (type, stream, length against
/// the limits) before its payload is awaited, so a hostile length never makes it buffer.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = InboundFrame

    private let validator: FrameHeaderValidator
    private var pendingHeader: FrameHeader?

    public init(limits: FrameLimits) {
        validator = FrameHeaderValidator(limits: limits)
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let header: FrameHeader
        if let pendingHeader {
            header = pendingHeader
        } else {
            guard buffer.readableBytes >= FrameHeader.size else { return .needMoreData }
            header = buffer.withUnsafeReadableBytes { FrameHeader(parsing: $0) }
            try validator.validate(header)
            buffer.moveReaderIndex(forwardBy: FrameHeader.size)
        }
        guard let payload = buffer.readSlice(length: Int(header.payloadLength)) else {
            pendingHeader = header
            return .needMoreData
        }
        pendingHeader = nil
        context.fireChannelRead(NIOAny(InboundFrame(header: header, payload: payload)))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

extension ByteBuffer {
    /// Appends a frame whose payload is an encoded protobuf message, encoding it in place.
    mutating func writeFrame<Message: ProtobufMessage>(
        _ type: FrameType,
        flags: FrameFlags = [],
        streamID: UInt32,
        message: Message
    ) {
        let size = message.serializedSize()
        writeFrameHeader(FrameHeader(payloadLength: UInt32(size), type: type, flags: flags, streamID: streamID))
        if size > 0 {
            writeWithUnsafeMutableBytes(minimumWritableBytes: size) { buffer in
                message.serialize(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size]))
                return size
            }
        }
    }

    /// Appends a frame with raw payload bytes.
    mutating func writeFrame(
        _ type: FrameType,
        flags: FrameFlags = [],
        streamID: UInt32,
        payload: some Collection<UInt8>
    ) {
        writeFrameHeader(FrameHeader(payloadLength: UInt32(payload.count), type: type, flags: flags, streamID: streamID))
        writeBytes(payload)
    }

    mutating func writeFrameHeader(_ header: FrameHeader) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: FrameHeader.size) { buffer in
            header.write(into: buffer)
            return FrameHeader.size
        }
    }
}

import BastionProtobuf
