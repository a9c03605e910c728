import BastionProtobuf
import BastionRPC
@testable import BastionTransport
import Logging
import NIOCore
import NIOEmbedded

/// The transport's frame decoder and the server's connection handler, fed a client's bytes.
///
/// The first input byte sets how the rest is cut into reads (1 to 64 bytes each, or all at once),
/// so that frames split across reads are covered. Two passes:
///
/// 1. `FrameDecoder` alone, fed each read from one reused buffer: it may refuse the stream only
///    with a `FramingError` (and then reads no more); every frame it emits has a header that passes
///    `FrameHeaderValidator` and a payload of exactly the announced length, and the frames, written
///    out again, are exactly the bytes consumed.
/// 2. The server's connection handler (which splits frames with `FrameDecoder` itself), as
///    `BastionServer` builds it without TLS, on an `EmbeddedChannel`: whatever the client sends,
///    the server must not trap,
///    and everything it writes back must be well-formed frames under the default limits whose
///    SETTINGS and TRAILERS payloads decode.
/// 3. The server's in-place reading of a call header that repeats the last call's path
///    (`ServerConnectionHandler.timeoutOfRepeatedCall`), against the full decoder: the payload as
///    a CallHeader, with a fixed path and with the path it decodes to, must be read in place only
///    when it decodes to exactly that path with no metadata and no unknown fields, and then to the
///    decoded timeout.
public enum FrameChecks {
    static let limits = FrameLimits(maxFrameSize: 4096, maxMessageSize: 16384, maxHeaderSize: 2048)
    static let logger = Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() }

    public static func run(_ input: [UInt8]) throws(FuzzFinding) {
        let split = ModeAndPayload(input)
        let chunk = split.mode == 0 ? max(split.payload.count, 1) : Int(split.mode % 64) + 1
        try decoderAlone(split.payload, chunk: chunk)
        try serverConnection(split.payload, chunk: chunk)
        try repeatedCallHeader(split.payload)
    }

    static func repeatedCallHeader(_ bytes: [UInt8]) throws(FuzzFinding) {
        let decoded = try? RPCCallHeader(serializedBytes: bytes)
        for path in ["/bastion.echo.v1.Echo/Get", decoded?.method ?? ""] {
            let inPlace = bytes.withUnsafeBytes { ServerConnectionHandler.timeoutOfRepeatedCall($0, path: Array(path.utf8)) }
            guard let inPlace else { continue }
            guard let decoded else { throw FuzzFinding("a call header read in place that the decoder refuses") }
            try require(decoded.method == path, "read in place as naming \(path), decoded as \(decoded.method)")
            try require(decoded.metadata.isEmpty && decoded.unknownFields.isEmpty, "read in place despite metadata or unknown fields")
            try require(decoded.timeoutMillis == inPlace, "timeout \(inPlace) in place, \(decoded.timeoutMillis) decoded")
        }
    }

    static func decoderAlone(_ bytes: [UInt8], chunk: Int) throws(FuzzFinding) {
        var decoder = FrameDecoder(limits: limits)
        let validator = FrameHeaderValidator(limits: limits)
        var rewritten: [UInt8] = []
        var refused = false
        var offset = 0
        // One buffer for every read, overwritten after each, as the TLS handler reuses its own:
        // the decoder must not depend on a read's buffer once the read is over.
        var reused = ByteBuffer()
        while offset < bytes.count, !refused {
            let end = min(offset + chunk, bytes.count)
            reused.clear()
            reused.writeBytes(bytes[offset..<end])
            decoder.append(reused)
            offset = end
            do {
                while let frame = try decoder.next() {
                    do {
                        try validator.validate(frame.header)
                    } catch {
                        throw FuzzFinding("FrameDecoder emitted a frame its validator refuses: \(error)")
                    }
                    try require(
                        frame.payload.readableBytes == Int(frame.header.payloadLength),
                        "payload of \(frame.payload.readableBytes) bytes, header says \(frame.header.payloadLength)"
                    )
                    rewritten += frame.header.bytes
                    rewritten += Array(frame.payload.readableBytesView)
                }
            } catch let error as FuzzFinding {
                throw error
            } catch {
                refused = true
                try require(decoder.failed, "FrameDecoder refused the stream but reads on")
            }
            reused.clear()
            reused.writeBytes(repeatElement(0xEE, count: min(chunk, 64)))
        }
        try require(rewritten.count <= bytes.count, "frames hold more bytes than were sent")
        try require(
            rewritten[...] == bytes[..<rewritten.count],
            "the decoded frames, written out again, differ from the bytes they were read from"
        )
        if !refused {
            // Whatever was not emitted must be an unfinished frame: less than a header, or a valid
            // header whose payload has not all arrived.
            let rest = bytes[rewritten.count...]
            try require(decoder.bufferedBytes <= rest.count, "FrameDecoder holds more bytes than are left")
            if rest.count >= FrameHeader.size {
                let header = Array(rest.prefix(FrameHeader.size)).withUnsafeBytes { FrameHeader(parsing: $0) }
                try require(
                    rest.count - FrameHeader.size < Int(header.payloadLength),
                    "FrameDecoder kept back a complete frame"
                )
            }
        }
    }

    static func serverConnection(_ bytes: [UInt8], chunk: Int) throws(FuzzFinding) {
        var configuration = ServerConnectionConfiguration()
        configuration.settings = ConnectionSettings(
            frameLimits: limits,
            maxConcurrentCalls: 4,
            initialStreamWindow: 64 << 10,
            initialConnectionWindow: 64 << 10
        )
        var router = RPCRouter()
        router.register(MethodDescriptor(service: "fuzz.Fuzz", method: "Unary", kind: .unary)) { _, _ in }
        let routes = router
        let channel = EmbeddedChannel()
        let handler = ServerConnectionHandler(
            configuration: configuration,
            routeLookup: { routes.route(forPath: $0) },
            waitsForTLS: false,
            logger: logger
        )
        do {
            try channel.pipeline.syncOperations.addHandler(handler)
            channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 4433), promise: nil)
        } catch {
            throw FuzzFinding("could not set up the server pipeline: \(error)")
        }
        var offset = 0
        while offset < bytes.count, channel.isActive {
            let end = min(offset + chunk, bytes.count)
            // Errors end the connection (the handler answers with a GOAWAY and closes); only traps
            // and malformed output are findings.
            _ = try? channel.writeInbound(ByteBuffer(bytes: bytes[offset..<end]))
            offset = end
            // The connection's task takes every call that arrives (BastionServer runs it); a call
            // left in the handler would keep it alive (the call refers to its connection).
            while handler.pollCall() != nil {}
        }
        var output: [UInt8] = []
        while let buffer = try? channel.readOutbound(as: ByteBuffer.self) {
            output += Array(buffer.readableBytesView)
        }
        _ = try? channel.finish(acceptAlreadyClosed: true)
        while handler.pollCall() != nil {}
        try serverOutputIsWellFormed(output)
    }

    /// The server's frames, read as a client reads them.
    static func serverOutputIsWellFormed(_ output: [UInt8]) throws(FuzzFinding) {
        let validator = FrameHeaderValidator(limits: FrameLimits())
        var offset = 0
        while offset < output.count {
            try require(output.count - offset >= FrameHeader.size, "the server wrote a partial frame header")
            let header = Array(output[offset..<(offset + FrameHeader.size)]).withUnsafeBytes { FrameHeader(parsing: $0) }
            do {
                try validator.validate(header)
            } catch {
                throw FuzzFinding("the server wrote a frame a client must refuse: \(error)")
            }
            offset += FrameHeader.size
            let length = Int(header.payloadLength)
            try require(output.count - offset >= length, "the server wrote a truncated \(header.type) frame")
            let payload = Array(output[offset..<(offset + length)])
            offset += length
            do {
                switch header.type {
                case .settings where !header.flags.contains(.ack): _ = try RPCSettings(serializedBytes: payload)
                case .trailers: _ = try RPCCallTrailer(serializedBytes: payload)
                case .goAway: _ = try RPCGoAway(serializedBytes: payload)
                default: break
                }
            } catch {
                throw FuzzFinding("the server wrote a \(header.type) payload that does not decode: \(error)")
            }
        }
    }
}
