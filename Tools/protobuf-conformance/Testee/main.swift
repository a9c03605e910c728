// The conformance testee: speaks protobuf's conformance protocol on stdin/stdout.
// Each request is a 4-byte little-endian length followed by a ConformanceRequest; each answer is
// framed the same way around a ConformanceResponse. Only the binary format is implemented here;
// JSON, JSPB and text-format tests are answered as skipped.

import BastionProtobuf

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func readExactly(_ count: Int) -> [UInt8]? {
    var buffer = [UInt8](repeating: 0, count: count)
    var filled = 0
    while filled < count {
        let result = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress! + filled, count - filled) }
        if result < 0, errno == EINTR { continue }
        if result <= 0 { return nil }
        filled += result
    }
    return buffer
}

func writeAll(_ bytes: [UInt8]) {
    var written = 0
    while written < bytes.count {
        let result = bytes.withUnsafeBytes { write(1, $0.baseAddress! + written, bytes.count - written) }
        if result < 0, errno == EINTR { continue }
        precondition(result > 0, "conformance testee: cannot write to stdout")
        written += result
    }
}

func roundTrip<Message: ProtobufMessage>(_ type: Message.Type, _ payload: [UInt8]) -> Conformance_ConformanceResponse.Result {
    do {
        let message = try Message(serializedBytes: payload)
        return .protobufPayload(message.serializedBytes())
    } catch {
        return .parseError(error.description)
    }
}

func answer(_ request: Conformance_ConformanceRequest) -> Conformance_ConformanceResponse.Result {
    if request.messageType == "conformance.FailureSet" {
        return .protobufPayload(Conformance_FailureSet().serializedBytes())
    }
    guard case .protobufPayload(let payload)? = request.payload else {
        return .skipped("only the binary format is implemented")
    }
    guard request.requestedOutputFormat == .protobuf else {
        return .skipped("only the binary format is implemented")
    }
    switch request.messageType {
    case "protobuf_test_messages.proto3.TestAllTypesProto3":
        return roundTrip(ProtobufTestMessages_Proto3_TestAllTypesProto3.self, payload)
    case "protobuf_test_messages.proto2.TestAllTypesProto2":
        return roundTrip(ProtobufTestMessages_Proto2_TestAllTypesProto2.self, payload)
    default:
        return .runtimeError("unknown message type \(request.messageType)")
    }
}

while let header = readExactly(4) {
    let length = Int(header[0]) | Int(header[1]) << 8 | Int(header[2]) << 16 | Int(header[3]) << 24
    guard let body = readExactly(length) else { break }
    var response = Conformance_ConformanceResponse()
    switch Result(catching: { () throws(ProtobufError) in try Conformance_ConformanceRequest(serializedBytes: body) }) {
    case .success(let request): response.result = answer(request)
    case .failure(let error): response.result = .runtimeError("cannot decode the ConformanceRequest: \(error)")
    }
    let bytes = response.serializedBytes()
    let count = UInt32(bytes.count)
    writeAll([UInt8(count & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count >> 16 & 0xFF), UInt8(count >> 24)] + bytes)
}
