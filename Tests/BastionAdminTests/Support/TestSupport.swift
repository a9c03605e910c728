import BastionRPC
import Foundation
import Logging
import NIOPosix

let testLogger = Logger(label: "BastionAdminTests", factory: { _ in SwiftLogNoOpLogHandler() })

/// A fresh folder under the temporary directory; short, so Unix socket paths inside it fit.
func temporaryFolder(_ prefix: String) throws -> URL {
    let folder = URL(fileURLWithPath: "/tmp").appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

/// One HTTP/1.1 exchange over a plain TCP socket, as a scraper makes it.
struct HTTPResponse {
    var status: Int
    var headers: [String: String]
    var body: String
}

enum HTTPTestClient {
    /// Sends `method path` to 127.0.0.1:`port` and reads the answer until the server closes; the
    /// blocking socket calls run on NIO's thread pool, not on the tasks' threads.
    static func request(port: Int, path: String, method: String = "GET") async throws -> HTTPResponse {
        try await NIOThreadPool.singleton.runIfActive { try blockingRequest(port: port, path: path, method: method) }
    }

    private static func blockingRequest(port: Int, path: String, method: String) throws -> HTTPResponse {
        let descriptor = try blockingConnect(port: port)
        defer { close(descriptor) }
        let request = Array("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAccept: text/plain\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, 0) }) == request.count else {
            throw RPCError(code: .unavailable, message: "send: errno \(errno)")
        }
        let received = try blockingReadToEnd(descriptor)
        let text = String(decoding: received, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else {
            throw RPCError(code: .internal, message: "no HTTP header in \(text)")
        }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw RPCError(code: .internal, message: "bad status line \(lines[0])")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces
            )
        }
        return HTTPResponse(status: status, headers: headers, body: String(text[split.upperBound...]))
    }

    /// A TCP connection to 127.0.0.1:`port` that sends nothing; close it with `close(_:)`.
    static func connectIdle(port: Int) async throws -> Int32 {
        try await NIOThreadPool.singleton.runIfActive { try blockingConnect(port: port) }
    }

    /// Everything the server sends until it closes the connection (at most a minute).
    static func readToEnd(_ descriptor: Int32) async throws -> [UInt8] {
        try await NIOThreadPool.singleton.runIfActive { try blockingReadToEnd(descriptor) }
    }

    /// The descriptors among `descriptors` whose peer closed them without sending anything, once
    /// at least `count` have been closed (or `seconds` have passed).
    static func closedWithoutAnswer(_ descriptors: [Int32], atLeast count: Int, seconds: Int) async throws -> Set<Int32> {
        try await NIOThreadPool.singleton.runIfActive {
            let deadline = ContinuousClock.now + .seconds(seconds)
            var closed: Set<Int32> = []
            while closed.count < count, ContinuousClock.now < deadline {
                var polls = descriptors.filter { !closed.contains($0) }.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
                _ = poll(&polls, nfds_t(polls.count), 100)
                for entry in polls where entry.revents != 0 {
                    var byte: UInt8 = 0
                    // Zero bytes: the peer closed without answering.
                    if recv(entry.fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0 { closed.insert(entry.fd) }
                }
            }
            return closed
        }
    }

    private static func blockingConnect(port: Int) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw RPCError(code: .internal, message: "socket: errno \(errno)") }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(descriptor)
            throw RPCError(code: .unavailable, message: "connect: errno \(errno)")
        }
        return descriptor
    }

    private static func blockingReadToEnd(_ descriptor: Int32) throws -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else {
                if count < 0 { throw RPCError(code: .unavailable, message: "recv: errno \(errno)") }
                return received
            }
            received += buffer[..<count]
        }
    }
}

/// Prometheus' text exposition, parsed into samples.
struct MetricsText {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var samples: [Sample] = []

    init(_ text: String) {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            let series = line[..<space]
            var labels: [String: String] = [:]
            var name = String(series)
            if let brace = series.firstIndex(of: "{"), series.hasSuffix("}") {
                name = String(series[..<brace])
                let body = series[series.index(after: brace)..<series.index(before: series.endIndex)]
                // label="value",… (the values here have no commas or quotes)
                for pair in body.split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2 else { continue }
                    labels[String(parts[0])] = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                }
            }
            samples.append(Sample(name: name, labels: labels, value: value))
        }
    }

    /// The sample with exactly these labels; nil when there is none.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    var names: Set<String> { Set(samples.map(\.name)) }
}
