import BastionProtobuf

/// Decodes one input as `Message` under several options and traps when the results disagree with
/// each other or with what the options promise.
///
/// Malformed input must surface as a ``ProtobufError``; nothing here calls that a failure. The
/// checks apply to the decodes that succeed, and to how the options relate:
///
/// - a decoded message's `serializedSize()` is the length of its encoding, and that encoding
///   decodes, under the same options, to an equal message (sizes only, when it holds a NaN);
/// - a message decoded without `allowPartial` has every required field, as a hand-written walk of
///   the schema (``MessageFacts``) sees it, and that walk agrees with `protobufIsInitialized`;
/// - no decoded message nests deeper than `maxDepth` allows, and `discardUnknownFields` leaves no
///   unknown field anywhere in the tree;
/// - tighter limits never accept what looser ones reject, nor decode it differently; `allowPartial`
///   changes only the verdict on missing required fields; `discardUnknownFields` changes only
///   whether unknown fields are kept; `maxMessageSize` admits exactly the inputs no longer than it.
struct DecodeOracle<Message: ProtobufMessage & FactsProviding> {
    /// Limits as a service facing untrusted peers might set them.
    static var tight: ProtobufDecodingOptions { ProtobufDecodingOptions(maxDepth: 3, maxMessageSize: 1024) }

    func check(_ input: UnsafeRawBufferPointer) {
        let strict = decode(input, ProtobufDecodingOptions())
        let partial = decode(input, ProtobufDecodingOptions(allowPartial: true))
        let discarding = decode(input, ProtobufDecodingOptions(allowPartial: true, discardUnknownFields: true))
        let tight = decode(input, Self.tight)
        let tightest = decode(
            input,
            ProtobufDecodingOptions(
                maxDepth: 0,
                maxMessageSize: input.count,
                allowPartial: true,
                discardUnknownFields: true
            )
        )

        // allowPartial only turns a missing required field from an error into an uninitialized message.
        switch (strict, partial) {
        case (.success(let strictMessage), .success(let partialMessage)):
            expectSame(strictMessage, partialMessage, "allowPartial changed a complete message")
        case (.failure(let error), .success(let partialMessage)):
            guard error.code == .missingRequiredField else {
                fail("strict decode failed (\(error)) where allowPartial succeeded")
            }
            guard !partialMessage.protobufIsInitialized else {
                fail("strict decode reported a missing required field, but the partial message is initialized")
            }
        case (.success, .failure(let error)):
            fail("allowPartial rejected what a strict decode accepted: \(error)")
        case (.failure(let strictError), .failure(let partialError)):
            expectSameError(strictError, partialError, "allowPartial changed a decoding error")
        }

        // discardUnknownFields only drops unknown fields: the verdict is the same, and the kept
        // message, re-encoded and decoded while discarding, equals the discarding decode.
        switch (partial, discarding) {
        case (.success(let kept), .success(let dropped)):
            // One level deeper allowed, as in checkDecoded(_:_:).
            let options = ProtobufDecodingOptions(
                maxDepth: ProtobufDecodingOptions().maxDepth + 1,
                maxMessageSize: .max,
                allowPartial: true,
                discardUnknownFields: true
            )
            switch decode(kept.serializedBytes(), options) {
            case .success(let redecoded):
                expectSame(redecoded, dropped, "discarding unknown fields changed known fields")
            case .failure(let error):
                fail("the re-encoded message does not decode while discarding unknown fields: \(error)")
            }
        case (.failure(let keptError), .failure(let droppedError)):
            expectSameError(keptError, droppedError, "discardUnknownFields changed a decoding error")
        case (.success, .failure(let error)), (.failure(let error), .success):
            fail("discardUnknownFields changed the verdict: \(error)")
        }

        // Tighter limits reject more, but never decode differently.
        expectTighter(tight, than: strict, "tight limits")
        expectTighter(tightest, than: discarding, "depth 0 and the exact input size")
        if case .failure(let error) = tightest, error.code == .messageTooLarge {
            fail("maxMessageSize equal to the input's size rejected it: \(error)")
        }
        if input.count > 0 {
            let tooSmall = decode(input, ProtobufDecodingOptions(maxMessageSize: input.count - 1))
            guard case .failure(let error) = tooSmall, error.code == .messageTooLarge else {
                fail("maxMessageSize one byte below the input's size did not reject it")
            }
        }
    }

    /// Decodes `input` and, when that succeeds, checks the message against `options` and its own
    /// re-encoding.
    func decode(_ input: UnsafeRawBufferPointer, _ options: ProtobufDecodingOptions) -> Result<Message, ProtobufError> {
        let result = Result { () throws(ProtobufError) in try Message(unsafeBytes: input, options: options) }
        if case .success(let message) = result {
            checkDecoded(message, options)
        }
        return result
    }

    func decode(_ input: [UInt8], _ options: ProtobufDecodingOptions) -> Result<Message, ProtobufError> {
        input.withUnsafeBytes { decode($0, options) }
    }

    func checkDecoded(_ message: Message, _ options: ProtobufDecodingOptions) {
        let facts = message.facts
        if facts.requiredFieldsPresent != message.protobufIsInitialized {
            fail(
                "protobufIsInitialized is \(message.protobufIsInitialized), the schema walk says \(facts.requiredFieldsPresent)"
            )
        }
        if !options.allowPartial && !facts.requiredFieldsPresent {
            fail("a decode without allowPartial returned a message that lacks a required field")
        }
        if facts.depth > options.maxDepth {
            fail("a message \(facts.depth) levels deep decoded with maxDepth \(options.maxDepth)")
        }
        if options.discardUnknownFields && facts.hasUnknownFields {
            fail("discardUnknownFields left unknown fields in the message")
        }

        let size = message.serializedSize()
        let encoded = message.serializedBytes()
        if encoded.count != size {
            fail("serializedSize() is \(size) but the encoding has \(encoded.count) bytes")
        }
        var intoBuffer = [UInt8](repeating: 0, count: size)
        intoBuffer.withUnsafeMutableBytes { message.serialize(into: $0) }
        if intoBuffer != encoded {
            fail("serialize(into:) and serializedBytes() wrote different bytes")
        }

        // The encoding may be longer than the input (unpacked repeats, unknown closed-enum values),
        // so the size limit is lifted. It may also be one level deeper: a map entry without its
        // message value decodes to an empty message, which is then written out and costs a level
        // to read back. Every other option stays.
        var again = options
        again.maxMessageSize = .max
        again.maxDepth = options.maxDepth + 1
        let second: Message
        do {
            second = try Message(serializedBytes: encoded, options: again)
        } catch {
            fail("a decoded message's own encoding does not decode: \(error)")
        }
        expectSame(message, second, "decoding the re-encoded message gave a different message")
        if second.serializedSize() != size {
            fail("the re-decoded message's size is \(second.serializedSize()), the first's \(size)")
        }
    }

    /// `tighter` used stricter limits than `looser` with the same other options.
    func expectTighter(
        _ tighter: Result<Message, ProtobufError>,
        than looser: Result<Message, ProtobufError>,
        _ what: String
    ) {
        switch (tighter, looser) {
        case (.success(let tight), .success(let loose)):
            expectSame(tight, loose, "\(what) decoded differently")
        case (.success, .failure(let error)):
            fail("\(what) accepted an input that looser limits reject: \(error)")
        case (.failure(let error), .success):
            guard error.code == .depthLimitExceeded || error.code == .messageTooLarge else {
                fail("\(what) failed for a reason other than a limit (\(error)) where looser limits succeeded")
            }
        case (.failure(let tightError), .failure(let looseError)):
            if tightError.code != .depthLimitExceeded && tightError.code != .messageTooLarge {
                expectSameError(tightError, looseError, "\(what) changed a decoding error")
            }
        }
    }

    /// Equal messages, or, when a float or double field holds a NaN (never equal to itself), equal
    /// sizes.
    func expectSame(_ lhs: Message, _ rhs: Message, _ what: String) {
        if lhs.facts.hasNaN || rhs.facts.hasNaN {
            if lhs.serializedSize() != rhs.serializedSize() {
                fail("\(what) (sizes \(lhs.serializedSize()) and \(rhs.serializedSize()))")
            }
            return
        }
        if lhs != rhs {
            fail("\(what):\n\(lhs)\n\(rhs)")
        }
        if lhs.hashValue != rhs.hashValue {
            fail("\(what): equal messages hash differently")
        }
    }

    func expectSameError(_ lhs: ProtobufError, _ rhs: ProtobufError, _ what: String) {
        if lhs.code != rhs.code || lhs.offset != rhs.offset {
            fail("\(what): \(lhs) versus \(rhs)")
        }
    }

    func fail(_ message: String) -> Never {
        fatalError("\(Message.protobufMessageName): \(message)")
    }
}
