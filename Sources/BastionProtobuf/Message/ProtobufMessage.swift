/// A generated protobuf message: a value type with a binary codec.
///
/// The `protobuf…` requirements are implemented by generated code and called by the runtime;
/// users call ``serializedBytes()`` and ``init(serializedBytes:options:)``.
public protocol ProtobufMessage: Hashable, Sendable {
    /// The message's full protobuf name, such as `bastion.rpc.v1.CallHeader`.
    static var protobufMessageName: String { get }

    /// An empty message: every field at its default.
    init()

    /// Fields that arrived but are not part of this message's schema.
    var unknownFields: ProtobufUnknownFields { get set }

    /// Whether every proto2 `required` field, here and in nested messages, is set.
    var protobufIsInitialized: Bool { get }

    /// The encoded size in bytes; records nested sizes in `sizes` in encoding order.
    func protobufSize(_ sizes: inout ProtobufSizeCache) -> Int

    /// Writes the fields, in the same order in which ``protobufSize(_:)`` visited them.
    func protobufEncode(to writer: inout ProtobufWriter)

    /// Reads fields until the reader reports the end of this message, merging into `self`.
    mutating func protobufDecode(from reader: inout ProtobufReader) throws(ProtobufError)
}

extension ProtobufMessage {
    /// Creates a message and lets `populate` set its fields.
    @inlinable
    public init(_ populate: (inout Self) throws -> Void) rethrows {
        self.init()
        try populate(&self)
    }

    /// The number of bytes ``serializedBytes()`` returns.
    @inlinable
    public func serializedSize() -> Int {
        var sizes = ProtobufSizeCache()
        return protobufSize(&sizes)
    }

    /// The message in protobuf's binary format.
    @inlinable
    public func serializedBytes() -> [UInt8] {
        var sizes = ProtobufSizeCache()
        let size = protobufSize(&sizes)
        // The writer gets `slack` bytes beyond the exact size, so that it can store a varint
        // without first computing its length, also at the end of the message. The check that
        // exactly `size` bytes were written stays: a size bug traps rather than truncating.
        let slack = 16
        if size <= 1024 &- slack {
            // Small outputs are encoded on the stack and copied into an array of the exact size:
            // `[UInt8](UnsafeBufferPointer)` is specialised, whereas allocating an uninitialised
            // array goes through an unspecialised standard-library path that looks up the array
            // storage's generic metadata on every call (about 300 instructions, as much as
            // encoding a small message).
            return withUnsafeTemporaryAllocation(byteCount: size &+ slack, alignment: 8) { buffer in
                var writer = ProtobufWriter(buffer: buffer, sizeCache: sizes)
                protobufEncode(to: &writer)
                precondition(writer.bytesWritten == size, "protobuf size computation disagreed with encoding")
                return [UInt8](UnsafeBufferPointer(start: buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), count: size))
            }
        }
        return [UInt8](unsafeUninitializedCapacity: size &+ slack) { buffer, initialized in
            var writer = ProtobufWriter(buffer: UnsafeMutableRawBufferPointer(buffer), sizeCache: sizes)
            protobufEncode(to: &writer)
            precondition(writer.bytesWritten == size, "protobuf size computation disagreed with encoding")
            initialized = size
        }
    }

    /// Calls `body` with the message in protobuf's binary format, in temporary memory that is
    /// valid only inside `body`: on the stack for small messages. For callers that copy the bytes
    /// elsewhere (a store, an output buffer) and would otherwise allocate an array only to free
    /// it again.
    @inlinable
    public func withSerializedBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        var sizes = ProtobufSizeCache()
        let size = protobufSize(&sizes)
        // The same slack as serializedBytes(); the standard library puts the buffer on the heap
        // when it is too large for the stack.
        return try withUnsafeTemporaryAllocation(byteCount: size &+ 16, alignment: 8) { buffer in
            var writer = ProtobufWriter(buffer: buffer, sizeCache: sizes)
            protobufEncode(to: &writer)
            precondition(writer.bytesWritten == size, "protobuf size computation disagreed with encoding")
            return try body(UnsafeRawBufferPointer(rebasing: buffer[..<size]))
        }
    }

    /// Encodes into memory the caller provides, for transports that frame messages in their own
    /// buffers. Call ``serializedSize()`` first: `buffer` must hold exactly that many bytes.
    @inlinable
    public func serialize(into buffer: UnsafeMutableRawBufferPointer) {
        var sizes = ProtobufSizeCache()
        let size = protobufSize(&sizes)
        precondition(buffer.count == size, "buffer holds \(buffer.count) bytes, the message needs \(size)")
        var writer = ProtobufWriter(buffer: buffer, sizeCache: sizes)
        protobufEncode(to: &writer)
        precondition(writer.bytesWritten == size, "protobuf size computation disagreed with encoding")
    }

    /// Decodes a message from protobuf's binary format held in an array.
    ///
    /// Arrays (what most callers pass) lend their bytes through the typed-throws
    /// `withUnsafeBufferPointer`, and the message is decoded in place. This overload keeps them
    /// apart from the generic one below: code that is generic over the message type and not
    /// specialised (a router over its request type) instantiated the generic path's `Result` and
    /// `Optional` types on every call, about 600 instructions, even when it took the array path.
    @inlinable
    public init(serializedBytes bytes: [UInt8], options: ProtobufDecodingOptions = .init()) throws(ProtobufError) {
        var message = Self()
        try bytes.withUnsafeBufferPointer { (buffer) throws(ProtobufError) in
            try message.merge(unsafeBytes: UnsafeRawBufferPointer(buffer), options: options)
        }
        self = message
    }

    /// Decodes a message from protobuf's binary format.
    @inlinable
    public init(
        serializedBytes bytes: some Collection<UInt8>,
        options: ProtobufDecodingOptions = .init()
    ) throws(ProtobufError) {
        // An array behind the opaque type still takes the array path. (In specialised code the
        // cast is decided at compile time.)
        if let array = bytes as? [UInt8] {
            try self.init(serializedBytes: array, options: options)
            return
        }
        // withContiguousStorageIfAvailable and withUnsafeBytes are untyped-rethrows, so the typed
        // error travels out inside a Result.
        let decode = { (buffer: UnsafeRawBufferPointer) -> Result<Self, ProtobufError> in
            Result { () throws(ProtobufError) in try Self(unsafeBytes: buffer, options: options) }
        }
        let result =
            bytes.withContiguousStorageIfAvailable { decode(UnsafeRawBufferPointer($0)) }
            ?? Array(bytes).withUnsafeBytes(decode)
        self = try result.get()
    }

    /// Decodes a message from bytes the caller keeps alive for the duration of the call.
    @inlinable
    public init(unsafeBytes buffer: UnsafeRawBufferPointer, options: ProtobufDecodingOptions = .init()) throws(ProtobufError) {
        self.init()
        try merge(unsafeBytes: buffer, options: options)
    }

    /// Decodes fields from `buffer` into this message, as protobuf's merge does.
    @inlinable
    public mutating func merge(unsafeBytes buffer: UnsafeRawBufferPointer, options: ProtobufDecodingOptions = .init()) throws(ProtobufError) {
        guard buffer.count <= options.maxMessageSize else {
            throw ProtobufError(
                code: .messageTooLarge,
                message: "\(buffer.count) bytes exceed the limit of \(options.maxMessageSize)"
            )
        }
        var reader = ProtobufReader(buffer: buffer, options: options)
        try protobufDecode(from: &reader)
        if !options.allowPartial && !protobufIsInitialized {
            throw ProtobufError(
                code: .missingRequiredField,
                message: "\(Self.protobufMessageName) lacks a required field"
            )
        }
    }
}

