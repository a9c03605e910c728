// Serves the notes service of notes/v1/notes.proto over TLS with development certificates and the
// policy engine, then calls it with the generated client stub. The types `Notes_V1_*` come from
// the .proto file, generated at build time by BastionProtobufPlugin.
import BastionPolicy
import BastionProtobuf
import BastionRPC
import BastionStore
import BastionTLS
import BastionTransport
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The handlers: one function per method of the generated protocol.
final class NotesService: Notes_V1_NotesService {
    private let notes = Mutex<[String]>([])

    func add(request: Notes_V1_AddRequest, context: ServerContext) async throws -> Notes_V1_AddResponse {
        guard !request.text.isEmpty else { throw RPCError(code: .invalidArgument, message: "a note needs text") }
        let count = notes.withLock { notes in
            notes.append(request.text)
            return notes.count
        }
        return Notes_V1_AddResponse { $0.count = UInt32(count) }
    }

    func list(request: Notes_V1_ListRequest, responses: RPCResponseWriter<Notes_V1_Note>, context: ServerContext)
        async throws
    {
        for (index, text) in notes.withLock({ $0 }).enumerated() {
            try await responses.write(Notes_V1_Note { $0.text = text; $0.number = UInt32(index + 1) })
        }
    }
}

let logger = Logger(label: "echo-notes")
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("echo-notes-\(UUID().uuidString)").path
defer { try? FileManager.default.removeItem(atPath: folder) }

// 1. TLS with development certificates (a CA, a server certificate for localhost), made now.
let certificates = try DevelopmentCertificates.generate(directory: folder + "/certs")
var serverTLS = TLSConfiguration.server(
    certificateChain: .file(certificates.serverCertificate), privateKey: .file(certificates.serverPrivateKey))
serverTLS.trustRoots = .file(certificates.caCertificate)

// 2. The policy engine enforces every method's policy before its handler runs; it keeps operator
//    switches and rate-limit windows in a store.
let store = try Store(path: folder + "/store", logger: logger)
let engine = try PolicyEngine(store: store, logger: logger)
var router = RPCRouter()
router.intercept(with: engine)
NotesService().register(with: &router)

// 3. The server, on a free loopback port, run by swift-service-lifecycle.
let server = BastionServer(
    configuration: .init(host: "127.0.0.1", port: 0, security: .tls(try TLSContext(configuration: serverTLS))),
    router: router, logger: logger)
let group = ServiceGroup(services: [engine, server], gracefulShutdownSignals: [.sigterm], logger: logger)

try await withThrowingTaskGroup(of: Void.self) { tasks in
    tasks.addTask { try await group.run() }
    let port = try await server.localAddress.port!

    // 4. The client: a TLS connection that trusts the development CA, and the generated stub.
    let clientTLS = TLSConfiguration.client(trustRoots: .file(certificates.caCertificate))
    let connection = try await BastionClientConnection.connect(
        host: "127.0.0.1", port: port, security: .tls(try TLSContext(configuration: clientTLS), serverHostname: "localhost"))
    let notes = Notes_V1_NotesClient(transport: connection)

    for text in ["buy milk", "call Ada", "water the plants", "one too many"] {
        do {
            let response = try await notes.add(Notes_V1_AddRequest { $0.text = text })
            print("added \"\(text)\": \(response.message.count) notes")
        } catch let error as RPCError {
            // The fourth note breaks Add's rate limit (three a minute), declared in the .proto.
            print("refused \"\(text)\": \(error.code) (policy \(error.policy ?? "-"), retry after \(error.retryAfter.map { "\($0)" } ?? "-"))")
        }
    }
    try await notes.list(Notes_V1_ListRequest()) { @Sendable stream in
        for try await note in stream { print("note \(note.number): \(note.text)") }
    }

    await connection.close()
    await group.triggerGracefulShutdown()
    try await tasks.waitForAll()
}
try await store.close()
