import BastionProtobuf
public import BastionRPC
public import NIOCore

/// A frame as read off the wire: its header and its payload, not yet interpreted.
public struct InboundFrame: Sendable {
    public var header: FrameHeader
    public var payload: ByteBuffer
}

/// Splits the byte stream into frames. Each header is validated (type, stream, length against
/// the limits) before its payload is awaited, so a hostile length never makes it buffer more
/// than one frame's limit.
///
/// The connection handlers call it themselves for every read (``append(_:)``, then ``next()``
/// until it returns nil) instead of running it in a `ByteToMessageHandler` of their own: that
/// handler's cumulation buffer, its `NIOAny` boxing of every frame and the pipeline step between
/// the two handlers cost about 4,000 instructions per call. Frames that a read holds whole are
/// slices of that read's buffer (no copy); only the unfinished frame at its end is copied, into a
/// buffer the decoder keeps, because the TLS handler reuses the buffer it fires for its next read.
public struct FrameDecoder {
    private let validator: FrameHeaderValidator
    /// A header whose payload has not all arrived; it was validated when it was read.
    private var pendingHeader: FrameHeader?
    /// The bytes not yet split: the current read's buffer, or (between reads) the unfinished
    /// frame copied into ``carry``.
    private var input: ByteBuffer?
    /// Whether ``input`` is ``carry``'s storage (ours, may be appended to) or a read's (not ours).
    private var inputIsCarry = false
    /// Storage for an unfinished frame between reads, kept for reuse up to this capacity.
    private var carry: ByteBuffer?
    static let retainedCarryCapacity = 16 << 10
    /// A framing error ends the stream: nothing after it is read.
    private(set) var failed = false

    public init(limits: FrameLimits) {
        validator = FrameHeaderValidator(limits: limits)
    }

    /// Bytes held back as part of an unfinished frame.
    public var bufferedBytes: Int { input?.readableBytes ?? 0 }

    /// Room the held-back bytes take (tests).
    var bufferedCapacity: Int { input?.capacity ?? 0 }

    /// Adds a read's bytes. Split them with ``next()`` before the next read.
    public mutating func append(_ bytes: ByteBuffer) {
        guard !failed, bytes.readableBytes > 0 else { return }
        guard var current = input, current.readableBytes > 0 else {
            input = bytes
            inputIsCarry = false
            return
        }
        input = nil
        if !inputIsCarry {
            // The rest of a read that was not split to its end (the caller stopped early).
            current = copyIntoCarry(current)
        }
        var bytes = bytes
        current.writeBuffer(&bytes)
        input = current
        inputIsCarry = true
    }

    /// The next whole frame, or nil when more bytes are needed. Throws a ``FramingError`` for a
    /// header that breaks the rules or the limits; after that it returns nil for good.
    public mutating func next() throws(FramingError) -> InboundFrame? {
        var frame: InboundFrame?
        try forEachFrame { next in
            frame = next
            return false
        }
        return frame
    }

    /// Hands the whole frames that have arrived to `body`, in order, while it returns true; the
    /// rest waits for the next call. Throws as ``next()`` does.
    ///
    /// What the connection handlers call: with ``next()``, every frame passes through an
    /// `Optional<InboundFrame>`, which Swift destroys through its generic value witnesses (about
    /// 85 instructions a frame); here a frame is made and handed over as it is.
    public mutating func forEachFrame(_ body: (InboundFrame) -> Bool) throws(FramingError) {
        guard !failed, var buffer = input.take() else { return }
        while true {
            let header: FrameHeader
            if let pendingHeader {
                header = pendingHeader
            } else {
                guard buffer.readableBytes >= FrameHeader.size else {
                    keep(buffer)
                    return
                }
                header = buffer.withUnsafeReadableBytes { FrameHeader(parsing: $0) }
                do {
                    try validator.validate(header)
                } catch {
                    failed = true
                    inputIsCarry = false
                    throw error
                }
                buffer.moveReaderIndex(forwardBy: FrameHeader.size)
            }
            guard let payload = buffer.readSlice(length: Int(header.payloadLength)) else {
                pendingHeader = header
                keep(buffer)
                return
            }
            pendingHeader = nil
            let more = buffer.readableBytes > 0
            if !more, inputIsCarry {
                // Emptied: keep small storage for the next unfinished frame (cleared then, once
                // the frames handed over, slices of it, are gone); let a large one go, so an idle
                // connection does not hold a frame's worth of memory.
                if buffer.capacity <= Self.retainedCarryCapacity { carry = buffer }
                inputIsCarry = false
            }
            let goOn = body(InboundFrame(header: header, payload: payload))
            guard more else { return }
            guard goOn else {
                input = buffer
                return
            }
        }
    }

    /// Keeps the unsplit rest until the next read, in our own storage.
    private mutating func keep(_ rest: ByteBuffer) {
        if rest.readableBytes == 0 {
            inputIsCarry = false
            return
        }
        if inputIsCarry {
            var rest = rest
            if rest.readerIndex > 0 { rest.discardReadBytes() }  // at most one frame's bytes move
            input = rest
        } else {
            input = copyIntoCarry(rest, awaiting: pendingHeader.map { Int($0.payloadLength) })
            inputIsCarry = true
        }
    }

    /// Copies `bytes` into the kept storage. `awaiting` is the payload length of a frame whose
    /// header has been read (and checked against the limits) and whose payload `bytes` begin:
    /// room for all of it is made at once, rather than by doubling as the rest arrives, once at
    /// least a quarter of it is here (so a header alone never makes the decoder allocate).
    private mutating func copyIntoCarry(_ bytes: ByteBuffer, awaiting payloadLength: Int? = nil) -> ByteBuffer {
        var storage = carry ?? ByteBuffer()
        carry = nil
        storage.clear()
        if let payloadLength, payloadLength <= 4 * bytes.readableBytes {
            storage.reserveCapacity(payloadLength)
        }
        var bytes = bytes
        storage.writeBuffer(&bytes)
        return storage
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

    /// Appends a frame with raw payload bytes, header and payload in one reservation of room.
    mutating func writeFrame(
        _ type: FrameType,
        flags: FrameFlags = [],
        streamID: UInt32,
        bytes: UnsafeRawBufferPointer
    ) {
        let header = FrameHeader(payloadLength: UInt32(bytes.count), type: type, flags: flags, streamID: streamID)
        writeWithUnsafeMutableBytes(minimumWritableBytes: FrameHeader.size + bytes.count) { buffer in
            header.write(into: buffer)
            if !bytes.isEmpty {
                UnsafeMutableRawBufferPointer(rebasing: buffer[FrameHeader.size...]).copyMemory(from: bytes)
            }
            return FrameHeader.size + bytes.count
        }
    }

    /// Appends a frame whose payload of `payloadSize` bytes `encode` writes in place, and then,
    /// if given, a frame with no payload (`then`), in the same reservation of room.
    mutating func writeFrame(
        _ type: FrameType,
        flags: FrameFlags = [],
        streamID: UInt32,
        payloadSize: Int,
        then next: FrameHeader? = nil,
        encode: (UnsafeMutableRawBufferPointer) -> Void
    ) {
        let header = FrameHeader(payloadLength: UInt32(payloadSize), type: type, flags: flags, streamID: streamID)
        let end = FrameHeader.size + payloadSize
        let total = next == nil ? end : end + FrameHeader.size
        writeWithUnsafeMutableBytes(minimumWritableBytes: total) { buffer in
            header.write(into: buffer)
            encode(UnsafeMutableRawBufferPointer(rebasing: buffer[FrameHeader.size..<end]))
            if let next {
                assert(next.payloadLength == 0, "only a frame without payload can follow")
                next.write(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
            }
            return total
        }
    }

    mutating func writeFrameHeader(_ header: FrameHeader) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: FrameHeader.size) { buffer in
            header.write(into: buffer)
            return FrameHeader.size
        }
    }
}
