import BastionRPC
@testable import BastionTransport
import NIOCore
import Testing

/// The frame splitter the connection handlers run on every read: the same frames whatever the
/// reads look like, headers refused before their payload is buffered, and no dependence on a
/// read's buffer after the read (the TLS handler reuses it).
@Suite struct FrameDecoderTests {
    static let limits = FrameLimits(maxFrameSize: 4096, maxMessageSize: 16384, maxHeaderSize: 512)

    /// A stream of valid frames of every kind a client sends, with payloads of varied sizes.
    static func stream(count: Int, seed: UInt64) -> (bytes: [UInt8], frames: [(FrameHeader, [UInt8])]) {
        var state = seed
        func random(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        var bytes: [UInt8] = []
        var frames: [(FrameHeader, [UInt8])] = []
        for index in 0..<count {
            let header: FrameHeader
            let payload: [UInt8]
            switch random(5) {
            case 0:
                payload = (0..<random(4097)).map { UInt8(truncatingIfNeeded: $0 &+ index) }
                header = FrameHeader(payloadLength: UInt32(payload.count), type: .message, streamID: UInt32(index + 1))
            case 1:
                payload = (0..<random(513)).map { UInt8(truncatingIfNeeded: $0) }
                header = FrameHeader(payloadLength: UInt32(payload.count), type: .headers, streamID: UInt32(index + 1))
            case 2:
                payload = [0, 0, 1, 0]
                header = FrameHeader(payloadLength: 4, type: .windowUpdate, streamID: 0)
            case 3:
                payload = Array(0..<8)
                header = FrameHeader(payloadLength: 8, type: .ping, streamID: 0)
            default:
                payload = []
                header = FrameHeader(payloadLength: 0, type: .halfClose, streamID: UInt32(index + 1))
            }
            bytes += header.bytes + payload
            frames.append((header, payload))
        }
        return (bytes, frames)
    }

    /// Feeds `bytes` in reads of `chunk` bytes, each from a buffer that is overwritten right after
    /// the read as the TLS handler's reused buffer is, and collects the frames: with ``FrameDecoder/next()``,
    /// or with ``FrameDecoder/forEachFrame(_:)`` stopping after every `stopEvery`-th frame (0: never).
    static func split(_ bytes: [UInt8], chunk: Int, stopEvery: Int? = nil) throws -> [(FrameHeader, [UInt8])] {
        var decoder = FrameDecoder(limits: limits)
        var frames: [(FrameHeader, [UInt8])] = []
        var reused = ByteBuffer()
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + chunk, bytes.count)
            reused.clear()
            reused.writeBytes(bytes[offset..<end])
            decoder.append(reused)
            if let stopEvery {
                // Called again after a stop until every whole frame of this read is taken.
                var stopped = true
                while stopped {
                    stopped = false
                    try decoder.forEachFrame { frame in
                        frames.append((frame.header, Array(frame.payload.readableBytesView)))
                        stopped = stopEvery > 0 && frames.count % stopEvery == 0
                        return !stopped
                    }
                }
            } else {
                while let frame = try decoder.next() {
                    frames.append((frame.header, Array(frame.payload.readableBytesView)))
                }
            }
            // What the TLS handler does with its buffer at the next read.
            reused.clear()
            reused.writeBytes([UInt8](repeating: 0xEE, count: max(1, end - offset)))
            offset = end
        }
        return frames
    }

    @Test(arguments: [1, 2, 7, 10, 11, 100, 4106, 16384, 1 << 30])
    func splitsTheSameFramesWhateverTheReads(chunk: Int) throws {
        let (bytes, expected) = Self.stream(count: 60, seed: UInt64(chunk))
        let frames = try Self.split(bytes, chunk: chunk)
        #expect(frames.count == expected.count)
        for (got, want) in zip(frames, expected) {
            #expect(got.0 == want.0)
            #expect(got.1 == want.1)
        }
    }

    @Test(arguments: [(1, 0), (7, 0), (100, 3), (4106, 1), (4106, 5), (1 << 30, 0), (1 << 30, 7)])
    func handsOverTheSameFramesWhereverItStops(chunk: Int, stopEvery: Int) throws {
        let (bytes, expected) = Self.stream(count: 60, seed: UInt64(chunk + stopEvery))
        let frames = try Self.split(bytes, chunk: chunk, stopEvery: stopEvery)
        #expect(frames.count == expected.count)
        for (got, want) in zip(frames, expected) {
            #expect(got.0 == want.0)
            #expect(got.1 == want.1)
        }
    }

    @Test func keepsAnUnfinishedFrameAcrossReads() throws {
        var decoder = FrameDecoder(limits: Self.limits)
        let payload = [UInt8](repeating: 7, count: 3000)
        let frame = FrameHeader(payloadLength: 3000, type: .message, streamID: 1).bytes + payload
        decoder.append(ByteBuffer(bytes: frame[..<5]))
        #expect(try decoder.next() == nil)
        decoder.append(ByteBuffer(bytes: frame[5..<1000]))
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedBytes == 1000 - FrameHeader.size)
        decoder.append(ByteBuffer(bytes: frame[1000...] + FrameHeader(payloadLength: 0, type: .halfClose, streamID: 1).bytes))
        let first = try #require(try decoder.next())
        #expect(Array(first.payload.readableBytesView) == payload)
        let second = try #require(try decoder.next())
        #expect(second.header.type == .halfClose)
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedBytes == 0)
    }

    /// An unfinished frame gets room for its whole payload at once when at least a quarter of it
    /// is here (no growing by doubling while a large message arrives), and not for a header alone.
    @Test func makesRoomForALargeFrameOnlyOnceAQuarterArrived() throws {
        let payload = [UInt8](repeating: 9, count: 4096)
        let frame = FrameHeader(payloadLength: 4096, type: .message, streamID: 1).bytes + payload
        var early = FrameDecoder(limits: Self.limits)
        early.append(ByteBuffer(bytes: frame[..<(FrameHeader.size + 100)]))
        #expect(try early.next() == nil)
        #expect(early.bufferedCapacity < 4096)
        var late = FrameDecoder(limits: Self.limits)
        late.append(ByteBuffer(bytes: frame[..<(FrameHeader.size + 1200)]))
        #expect(try late.next() == nil)
        #expect(late.bufferedCapacity >= 4096)
        late.append(ByteBuffer(bytes: frame[(FrameHeader.size + 1200)...]))
        let whole = try #require(try late.next())
        #expect(Array(whole.payload.readableBytesView) == payload)
    }

    /// A hostile length is refused as soon as the header is complete, before any payload arrives,
    /// and nothing after the refusal is read.
    @Test func refusesAnOversizedHeaderBeforeItsPayload() throws {
        var decoder = FrameDecoder(limits: Self.limits)
        decoder.append(ByteBuffer(bytes: FrameHeader(payloadLength: 4097, type: .message, streamID: 1).bytes))
        #expect(throws: FramingError.self) { try decoder.next() }
        #expect(decoder.failed)
        decoder.append(ByteBuffer(bytes: BadInputTests.frame(.halfClose, stream: 1)))
        #expect(try decoder.next() == nil)
    }

    @Test func refusesAHeaderSplitAcrossReads() throws {
        var decoder = FrameDecoder(limits: Self.limits)
        let header = FrameHeader(payloadLength: 600, type: .headers, streamID: 3).bytes
        decoder.append(ByteBuffer(bytes: header[..<4]))
        #expect(try decoder.next() == nil)
        decoder.append(ByteBuffer(bytes: header[4...]))
        do {
            _ = try decoder.next()
            Issue.record("a 600-byte HEADERS payload passed a 512-byte max_header_size")
        } catch {
            #expect(error.code == .frameTooLarge)
        }
    }
}
