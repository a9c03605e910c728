public import BastionPolicy
import BastionProtobuf
public import BastionRPC
public import BastionStore
import Foundation
public import Logging
import Synchronization

/// The operators' service (`bastion.admin.v1.Admin`, proto/bastion/admin/v1/admin.proto) over the
/// policy engine, the server's methods and the store.
///
/// Who may call is the policy's business, not this type's: every method declares
/// `CALLER_OPERATOR`, and the policy engine in front of it admits only peers on the admin socket
/// and operator certificates. Register it with the same router (or routers) the engine guards.
public final class AdminService: Bastion_Admin_V1_AdminService {
    private let engine: PolicyEngine
    private let store: Store
    private let methods: [String: MethodDescriptor]
    private let serverInfo: @Sendable () -> Bastion_Admin_V1_ServerInfo
    private let logger: Logger
    private let backupRunning = Mutex(false)

    /// - Parameters:
    ///   - methods: every method the server serves (the router's, and the admin service's own).
    ///   - serverInfo: what `GetServerInfo` answers, asked at each call.
    public init(
        engine: PolicyEngine,
        store: Store,
        methods: [MethodDescriptor],
        serverInfo: @escaping @Sendable () -> Bastion_Admin_V1_ServerInfo = { Bastion_Admin_V1_ServerInfo() },
        logger: Logger
    ) {
        self.engine = engine
        self.store = store
        self.methods = Dictionary(methods.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        self.serverInfo = serverInfo
        self.logger = logger
    }

    // MARK: Methods

    public func listMethods(
        request: Bastion_Admin_V1_ListMethodsRequest,
        context: ServerContext
    ) async throws -> Bastion_Admin_V1_ListMethodsResponse {
        Bastion_Admin_V1_ListMethodsResponse { response in
            response.methods = methods.values
                .filter { request.pathPrefix.isEmpty || $0.path.hasPrefix(request.pathPrefix) }
                .sorted { $0.path < $1.path }
                .map(status)
        }
    }

    public func setMethodEnabled(
        request: Bastion_Admin_V1_SetMethodEnabledRequest,
        context: ServerContext
    ) async throws -> Bastion_Admin_V1_MethodStatus {
        let method = try method(named: request.method)
        try await rethrowingStoreFailures("switch \(method.path)") {
            try await engine.setEnabled(request.enabled, method: method)
        }
        logger.notice(
            "operator switched a method",
            metadata: [
                "method": "\(method.path)", "enabled": "\(request.enabled)", "operator": "\(Self.describe(context))",
            ]
        )
        return status(method)
    }

    public func setProofOfWorkDifficulty(
        request: Bastion_Admin_V1_SetProofOfWorkDifficultyRequest,
        context: ServerContext
    ) async throws -> Bastion_Admin_V1_MethodStatus {
        let method = try method(named: request.method)
        // The engine refuses methods without proof of work and difficulties over 64 bits.
        try await rethrowingStoreFailures("set the difficulty of \(method.path)") {
            try await engine.setProofOfWorkDifficulty(request.difficulty, method: method)
        }
        logger.notice(
            "operator set a proof-of-work difficulty",
            metadata: [
                "method": "\(method.path)", "bits": "\(request.difficulty)", "operator": "\(Self.describe(context))",
            ]
        )
        return status(method)
    }

    public func verifyAuditLog(
        request: Bastion_Admin_V1_VerifyAuditLogRequest,
        context: ServerContext
    ) async throws -> Bastion_Admin_V1_VerifyAuditLogResponse {
        let (verification, head) = try await rethrowingStoreFailures("verify the audit log") {
            let verification = try engine.auditLog.verify()
            // An intact chain of n entries ends at sequence n; entries appended since are newer.
            let head =
                verification.isIntact && verification.entries > 0
                ? try engine.auditLog.entries(from: UInt64(verification.entries), limit: 1).first
                : nil
            return (verification, head)
        }
        return Bastion_Admin_V1_VerifyAuditLogResponse { response in
            response.entries = UInt64(verification.entries)
            response.intact = verification.isIntact
            response.firstBrokenSequence = verification.firstBrokenSequence
            response.problem = verification.problem ?? ""
            if let head {
                response.headSequence = head.sequence
                response.headHash = head.hash
            }
        }
    }

    public func listAuditEntries(
        request: Bastion_Admin_V1_ListAuditEntriesRequest,
        context: ServerContext
    ) async throws -> Bastion_Admin_V1_ListAuditEntriesResponse {
        let limit = request.limit == 0 ? 100 : Int(min(request.limit, 1000))
        let from = max(request.fromSequence, 1)
        // One more than asked, to know whether there is a next page.
        let entries = try await rethrowingStoreFailures("read the audit log") {
            try engine.auditLog.entries(from: from, limit: limit + 1)
        }
        return Bastion_Admin_V1_ListAuditEntriesResponse { response in
            response.entries = Array(entries.prefix(limit))
            if entries.count > limit { response.nextSequence = entries[limit].sequence }
        }
    }

    public func backup(
        request: Bastion_Admin_V1_BackupRequest,
        context: ServerContext
    ) async throws -> Bastion_Admin_V1_BackupResponse {
        guard request.path.hasPrefix("/") else {
            throw RPCError(
                code: .invalidArgument,
                message: "the backup folder must be an absolute path on the server's machine, not \"\(request.path)\""
            )
        }
        let path = URL(fileURLWithPath: request.path).standardizedFileURL.path
        guard
            backupRunning.withLock({ running in
                defer { running = true }
                return !running
            })
        else {
            throw RPCError(code: .aborted, message: "another backup is running; try again when it has finished")
        }
        defer { backupRunning.withLock { $0 = false } }

        let start = ContinuousClock.now
        do {
            // The folder's parents are made as needed (private to the server's user, by its umask).
            let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw RPCError(
                code: .failedPrecondition,
                message: "could not make the folder \(path) is to go in: \(error.localizedDescription)"
            )
        }
        do {
            try await store.backup(to: path)
        } catch let error as StoreError {
            throw Self.rpcError(error, doing: "back up the store to \(path)")
        }
        let elapsed = ContinuousClock.now - start
        let size =
            (try? FileManager.default.attributesOfItem(atPath: path + "/data.mdb")[.size] as? NSNumber)?.uint64Value
            ?? 0
        logger.notice(
            "operator backed up the store",
            metadata: [
                "path": "\(path)", "bytes": "\(size)", "operator": "\(Self.describe(context))",
            ]
        )
        return Bastion_Admin_V1_BackupResponse { response in
            response.path = path
            response.bytes = size
            response.durationMillis = UInt64(max(0, elapsed / .milliseconds(1)))
        }
    }

    public func getServerInfo(
        request: Bastion_Admin_V1_GetServerInfoRequest,
        context: ServerContext
    ) async throws -> Bastion_Admin_V1_ServerInfo {
        serverInfo()
    }

    // MARK: Helpers

    private func method(named path: String) throws(RPCError) -> MethodDescriptor {
        guard !path.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "name a method as /package.Service/Method")
        }
        guard let method = methods[path] ?? methods["/" + path] else {
            throw RPCError(code: .notFound, message: "this server serves no method \(path)")
        }
        return method
    }

    /// One method's row: policy, switch, difficulty and counters.
    func status(_ method: MethodDescriptor) -> Bastion_Admin_V1_MethodStatus {
        let counters = engine.counters(for: method.path)
        return Bastion_Admin_V1_MethodStatus { status in
            status.path = method.path
            status.kind = Bastion_Admin_V1_MethodStatus.Kind(method.kind)
            status.policy = method.policy
            status.policySummary = method.policy.map(PolicySummary.render) ?? "no policy"
            status.enabled = engine.isEnabled(method)
            status.operatorCanDisable = method.policy?.availability?.operatorCanDisable == true
            status.proofOfWorkDifficulty = engine.proofOfWorkDifficulty(for: method)
            status.counters = Bastion_Admin_V1_MethodCounters { row in
                row.admitted = UInt64(counters.admitted)
                row.inFlight = UInt64(counters.inFlight)
                row.denials = counters.denials.mapValues { UInt64($0) }
            }
        }
    }

    /// Runs `body`; an error that is not already an ``RPCError`` becomes one that says what failed.
    private func rethrowingStoreFailures<Result>(_ doing: String, _ body: () async throws -> Result) async throws
        -> Result
    {
        do {
            return try await body()
        } catch let error as RPCError {
            throw error
        } catch let error as StoreError {
            throw Self.rpcError(error, doing: doing)
        } catch {
            logger.error("admin call failed", metadata: ["doing": "\(doing)", "error": "\(error)"])
            throw RPCError(code: .internal, message: "could not \(doing): \(error)", cause: error)
        }
    }

    static func rpcError(_ error: StoreError, doing: String) -> RPCError {
        let code: RPCError.Code =
            switch error.code {
            case .alreadyExists: .alreadyExists
            case .permissionDenied, .notFound: .failedPrecondition
            case .corrupt: .dataLoss
            default: .internal
            }
        return RPCError(code: code, message: "could not \(doing): \(error.message)", cause: error)
    }

    /// Who called, for the server's log: the operator certificate, else the socket.
    private static func describe(_ context: ServerContext) -> String {
        if let certificate = context.peer.certificate {
            return "certificate \(certificate.fingerprint) (\(certificate.commonName ?? certificate.subject))"
        }
        return context.peer.address
    }
}

extension Bastion_Admin_V1_MethodStatus.Kind {
    init(_ kind: MethodDescriptor.Kind) {
        switch kind {
        case .unary: self = .unary
        case .clientStreaming: self = .clientStreaming
        case .serverStreaming: self = .serverStreaming
        case .bidirectionalStreaming: self = .bidirectionalStreaming
        }
    }
}
