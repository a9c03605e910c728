public import BastionRPC
public import BastionStore
public import BastionTLS
import BastionPolicy
import BastionProtobuf
public import Logging

/// The server side of OPAQUE as the service needs it; `OpaquePasswordServer` implements it
/// with BastionCrypto.
public protocol PasswordServer: Sendable {
    /// OPAQUE's RegistrationResponse for a RegistrationRequest.
    func registrationResponse(request: [UInt8], credentialIdentifier: [UInt8]) throws -> [UInt8]
    /// Checks that a RegistrationRecord is well-formed before it is stored.
    func validateRecord(_ record: [UInt8]) throws
    /// KE2 and the state that KE3 must match. `record` is nil for an unknown user: the answer is
    /// then OPAQUE's fake credential response, alike in shape and cost.
    func startLogin(ke1: [UInt8], record: [UInt8]?, credentialIdentifier: [UInt8]) throws -> (ke2: [UInt8], state: [UInt8])
    /// Throws unless `ke3` proves the password for `state`.
    func finishLogin(ke3: [UInt8], state: [UInt8]) throws
}

/// Registration, login, logout and account deletion (proto/bastion/auth/v1/auth.proto).
public struct AuthService: Bastion_Auth_V1_AuthService {
    public struct Configuration: Sendable {
        public var pendingRegistrationLifetime: Duration = .seconds(600)
        public var pendingLoginLifetime: Duration = .seconds(120)
        /// Failed logins of one account within `failureWindow` before it is locked until the
        /// window ends.
        public var maxFailuresPerAccount: UInt32 = 5
        /// Failed logins from one address (IPv6 by /64) within `failureWindow`.
        public var maxFailuresPerAddress: UInt32 = 20
        public var failureWindow: Duration = .seconds(900)
        /// The role new users get.
        public var defaultRole = "user"
        public var certificateValidityDays = 365

        public init() {}
    }

    static let users = Table<String, Bastion_Auth_V1_UserRecord>("identity.users")
    static let clientsByUser = Index<String, String, Bastion_Auth_V1_ClientRecord>("identity.clients.by-user") { $0.userId }
    static let clients = Table<String, Bastion_Auth_V1_ClientRecord>("identity.clients", indexes: [clientsByUser])
    static let pendingRegistrations = ExpiringTable<String, Bastion_Auth_V1_PendingRegistrationRecord>("identity.pending_registrations")
    /// User ids with a registration in progress → its handle, so that two cannot race for one.
    static let pendingUserIDs = ExpiringTable<String, String>("identity.pending_user_ids")
    static let pendingLogins = ExpiringTable<String, Bastion_Auth_V1_PendingLoginRecord>("identity.pending_logins")
    static let loginFailures = ExpiringTable<String, Bastion_Auth_V1_FailureCount>("identity.login_failures")

    /// The metadata key a pending registration's handle travels in.
    public static let registrationMetadataKey = "bastion-registration"

    let store: Store
    let tokens: SessionTokens
    let authority: CertificateAuthority
    let passwords: any PasswordServer
    let configuration: Configuration
    let logger: Logger
    /// Told of every client registered and user deleted, in the same transaction.
    let lifecycle: (any ClientLifecycle)?

    public init(
        store: Store,
        tokens: SessionTokens,
        authority: CertificateAuthority,
        passwords: any PasswordServer,
        configuration: Configuration = Configuration(),
        lifecycle: (any ClientLifecycle)? = nil,
        logger: Logger
    ) {
        self.store = store
        self.tokens = tokens
        self.authority = authority
        self.passwords = passwords
        self.configuration = configuration
        self.lifecycle = lifecycle
        self.logger = logger
    }

    // MARK: Registration

    public func initiateRegistration(
        request: Bastion_Auth_V1_InitiateRegistrationRequest,
        context: ServerContext
    ) async throws -> Bastion_Auth_V1_InitiateRegistrationResponse {
        let csr: SigningRequest
        do {
            csr = try SigningRequest(der: request.clientCsr)
        } catch {
            throw RPCError(code: .invalidArgument, message: "client_csr: \(error.message)")
        }
        let userID = csr.commonName
        try UserID.validate(userID)
        let registrationResponse: [UInt8]
        do {
            registrationResponse = try passwords.registrationResponse(
                request: request.opaqueRegistrationRequest, credentialIdentifier: Array(userID.utf8)
            )
        } catch {
            throw RPCError(code: .invalidArgument, message: "opaque_registration_request: \(error)")
        }
        let handle = try Random.bytes(16).hexString
        let lifetime = configuration.pendingRegistrationLifetime
        let pending = Bastion_Auth_V1_PendingRegistrationRecord {
            $0.userId = userID
            $0.clientCsr = request.clientCsr
        }
        let expiresAt = try await store.withWriteTransaction { txn -> StoreInstant in
            guard try txn.get(Self.users, userID) == nil, try txn.get(Self.pendingUserIDs, userID) == nil else {
                throw RPCError(code: .alreadyExists, message: "the user id \(userID) is taken or being registered")
            }
            try txn.put(Self.pendingRegistrations, handle, pending, expiresIn: lifetime)
            try txn.put(Self.pendingUserIDs, userID, handle, expiresIn: lifetime)
            return txn.now.advanced(by: lifetime)
        }
        logger.info("registration started", metadata: ["user": "\(userID)"])
        return .init {
            $0.registrationHandle = handle
            $0.opaqueRegistrationResponse = registrationResponse
            $0.expiresUnixSeconds = expiresAt.millisecondsSinceEpoch / 1000
        }
    }

    public func finishRegistration(
        request: Bastion_Auth_V1_FinishRegistrationRequest,
        context: ServerContext
    ) async throws -> Bastion_Auth_V1_FinishRegistrationResponse {
        guard let principal = context.principal, principal.kind == .pendingRegistration else {
            throw RPCError(code: .unauthenticated, message: "no pending registration")
        }
        let handle = principal.id
        guard let pending = try store.withReadTransaction({ txn in try txn.get(Self.pendingRegistrations, handle) }) else {
            throw RPCError(code: .unauthenticated, message: "the registration expired; start again")
        }
        do {
            try passwords.validateRecord(request.opaqueRegistrationRecord)
        } catch {
            throw RPCError(code: .invalidArgument, message: "opaque_registration_record: \(error)")
        }
        let csr: SigningRequest
        do {
            csr = try SigningRequest(der: pending.clientCsr)
        } catch {
            throw RPCError(code: .internal, message: "the stored certificate request no longer parses", cause: error)
        }
        let keyPackage = request.keyPackage ?? .init()
        try KeyPackageCheck.validate(keyPackage, handle: handle, request: csr)
        let issued: IssuedCertificate
        do {
            issued = try authority.issueClientCertificate(for: csr, validityDays: configuration.certificateValidityDays)
        } catch {
            throw RPCError(code: .internal, message: "the certificate could not be issued", cause: error)
        }
        let userID = pending.userId
        let role = configuration.defaultRole
        let lifecycle = self.lifecycle
        try await store.withWriteTransaction { txn in
            guard try txn.get(Self.pendingRegistrations, handle) != nil else {
                throw RPCError(code: .unauthenticated, message: "the registration expired; start again")
            }
            guard try txn.get(Self.users, userID) == nil else {
                throw RPCError(code: .alreadyExists, message: "the user id \(userID) is taken")
            }
            let now = txn.now.millisecondsSinceEpoch / 1000
            try txn.insert(Self.users, userID, .init {
                $0.userId = userID
                $0.role = role
                $0.createdUnixSeconds = now
                $0.opaqueRecord = request.opaqueRegistrationRecord
            })
            try txn.insert(Self.clients, issued.fingerprint, .init {
                $0.fingerprint = issued.fingerprint
                $0.userId = userID
                $0.certificate = issued.der
                $0.initKey = keyPackage.initKey
                $0.signatureKey = keyPackage.signatureKey
                $0.createdUnixSeconds = now
            })
            try lifecycle?.clientRegistered(
                RegisteredClient(fingerprint: issued.fingerprint, userID: userID, initKey: keyPackage.initKey, signatureKey: keyPackage.signatureKey),
                in: txn
            )
            try txn.delete(Self.pendingRegistrations, handle)
            try txn.delete(Self.pendingUserIDs, userID)
        }
        logger.notice("user registered", metadata: ["user": "\(userID)", "client": "\(issued.fingerprint)"])
        return .init {
            $0.userId = userID
            $0.clientCertificate = issued.der
        }
    }

    // MARK: Login

    public func loginStart(request: Bastion_Auth_V1_LoginStartRequest, context: ServerContext) async throws -> Bastion_Auth_V1_LoginStartResponse {
        let userID = request.userId
        let address = AddressKey.group(context.peer.ipAddress)
        // The same checks and work whether or not the user exists.
        try checkLockout(user: userID, address: address)
        let record = try store.withReadTransaction { txn in try txn.get(Self.users, userID) }
        let answer: (ke2: [UInt8], state: [UInt8])
        do {
            answer = try passwords.startLogin(ke1: request.ke1, record: record?.opaqueRecord, credentialIdentifier: Array(userID.utf8))
        } catch {
            throw RPCError(code: .invalidArgument, message: "ke1: \(error)")
        }
        let handle = try Random.bytes(16).hexString
        let pending = Bastion_Auth_V1_PendingLoginRecord {
            $0.userId = userID
            $0.serverState = answer.state
            $0.peerGroup = address
        }
        let lifetime = configuration.pendingLoginLifetime
        try await store.withWriteTransaction { txn in try txn.put(Self.pendingLogins, handle, pending, expiresIn: lifetime) }
        return .init {
            $0.loginHandle = handle
            $0.ke2 = answer.ke2
        }
    }

    public func loginFinish(request: Bastion_Auth_V1_LoginFinishRequest, context: ServerContext) async throws -> Bastion_Auth_V1_LoginFinishResponse {
        let userID = try await provePassword(handle: request.loginHandle, ke3: request.ke3, expectedUser: nil)
        guard let user = try store.withReadTransaction({ txn in try txn.get(Self.users, userID) }) else {
            throw Self.loginFailed
        }
        let issued = try tokens.issue(user: userID, role: user.role)
        logger.info("login", metadata: ["user": "\(userID)"])
        return .init {
            $0.sessionToken = issued.token
            $0.contextSecret = issued.contextSecret
            $0.expiresUnixSeconds = issued.claims.exp
        }
    }

    /// The one answer to every failed login, so that none tells an unknown user from a wrong
    /// password.
    static let loginFailed = RPCError(code: .unauthenticated, message: "login failed", policy: "authentication")

    /// Consumes a pending login and checks its KE3; counts a failure against the account and the
    /// address that started it. Returns the user id.
    func provePassword(handle: String, ke3: [UInt8], expectedUser: String?) async throws -> String {
        // Single use: the attempt is gone whatever the outcome.
        let pending = try await store.withWriteTransaction { txn -> Bastion_Auth_V1_PendingLoginRecord? in
            let pending = try txn.get(Self.pendingLogins, handle)
            if pending != nil { try txn.delete(Self.pendingLogins, handle) }
            return pending
        }
        guard let pending else { throw Self.loginFailed }
        if let expectedUser, pending.userId != expectedUser {
            throw RPCError(code: .permissionDenied, message: "the password proof is for another user", policy: "authentication")
        }
        do {
            try passwords.finishLogin(ke3: ke3, state: pending.serverState)
        } catch {
            try await recordFailure(user: pending.userId, address: pending.peerGroup)
            throw Self.loginFailed
        }
        try await store.withWriteTransaction { txn in _ = try txn.delete(Self.loginFailures, "user:\(pending.userId)") }
        return pending.userId
    }

    // MARK: Sessions

    public func whoAmI(request: Bastion_Auth_V1_WhoAmIRequest, context: ServerContext) async throws -> Bastion_Auth_V1_WhoAmIResponse {
        guard let claims = context[SessionClaimsKey.self] else {
            throw RPCError(code: .unauthenticated, message: "not logged in")
        }
        return .init {
            $0.userId = claims.sub
            $0.role = claims.role
            $0.sessionExpiresUnixSeconds = claims.exp
        }
    }

    public func logout(request: Bastion_Auth_V1_LogoutRequest, context: ServerContext) async throws -> Bastion_Auth_V1_LogoutResponse {
        guard let claims = context[SessionClaimsKey.self] else {
            throw RPCError(code: .unauthenticated, message: "not logged in")
        }
        try await tokens.revoke(claims)
        return .init()
    }

    // MARK: Deletion

    public func deleteAccount(request: Bastion_Auth_V1_DeleteAccountRequest, context: ServerContext) async throws -> Bastion_Auth_V1_DeleteAccountResponse {
        // The policy engine checked that the caller's certificate belongs to request.user_id
        // and redeemed a second factor bound to this request (TwoFactorVerifier); the password
        // is proved afresh here.
        let userID = try await provePassword(handle: request.loginHandle, ke3: request.ke3, expectedUser: request.userId)
        let lifecycle = self.lifecycle
        let removed = try await store.withWriteTransaction { txn -> Int in
            guard try txn.get(Self.users, userID) != nil else { throw RPCError(code: .notFound, message: "no such user") }
            let fingerprints = try txn.primaryKeys(Self.clientsByUser, userID)
            for fingerprint in fingerprints { try txn.delete(Self.clients, fingerprint) }
            try txn.delete(Self.users, userID)
            _ = try txn.delete(Self.loginFailures, "user:\(userID)")
            try TwoFactorService.removeAll(for: userID, in: txn)
            try SessionTokens.revokeAll(for: userID, in: txn)
            try lifecycle?.userDeleted(userID, in: txn)
            return fingerprints.count
        }
        logger.notice("account deleted", metadata: ["user": "\(userID)", "clients": "\(removed)"])
        return .init()
    }

    // MARK: Failed logins

    private func checkLockout(user: String, address: String) throws {
        let now = store.clock.now()
        let (userCount, addressCount) = try store.withReadTransaction { txn in
            (try txn.get(Self.loginFailures, "user:\(user)"), try txn.get(Self.loginFailures, "address:\(address)"))
        }
        for (count, limit) in [(userCount, configuration.maxFailuresPerAccount), (addressCount, configuration.maxFailuresPerAddress)] {
            guard let count, count.count >= limit else { continue }
            let windowEnd = StoreInstant(millisecondsSinceEpoch: count.windowStartUnixMillis).advanced(by: configuration.failureWindow)
            throw RPCError(
                code: .resourceExhausted,
                message: "too many failed logins; try again later",
                retryAfter: max(.seconds(1), windowEnd.duration(since: now)),
                policy: "spam_prevention"
            )
        }
    }

    private func recordFailure(user: String, address: String) async throws {
        let window = configuration.failureWindow
        try await store.withWriteTransaction { txn in
            for key in ["user:\(user)", "address:\(address)"] {
                var count = try txn.get(Self.loginFailures, key) ?? .init { $0.windowStartUnixMillis = txn.now.millisecondsSinceEpoch }
                count.count += 1
                let expiresAt = StoreInstant(millisecondsSinceEpoch: count.windowStartUnixMillis).advanced(by: window)
                try txn.put(Self.loginFailures, key, count, expiresAt: expiresAt)
            }
        }
    }
}

extension Bastion_Auth_V1_UserRecord: StoreValue {}
extension Bastion_Auth_V1_ClientRecord: StoreValue {}
extension Bastion_Auth_V1_PendingRegistrationRecord: StoreValue {}
extension Bastion_Auth_V1_PendingLoginRecord: StoreValue {}
extension Bastion_Auth_V1_FailureCount: StoreValue {}

/// The verified session of a logged-in caller, for handlers.
public enum SessionClaimsKey: ServerContextKey {
    public typealias Value = SessionTokens.Claims
}

/// User ids: 3-64 characters of lower-case letters, digits, `.`, `_` and `-`, starting with a
/// letter or digit — safe in certificates, file names and logs.
enum UserID {
    static func validate(_ id: String) throws(RPCError) {
        let bytes = Array(id.utf8)
        let allowed = bytes.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        guard (3...64).contains(bytes.count), allowed, let first = bytes.first,
            first != UInt8(ascii: "."), first != UInt8(ascii: "_"), first != UInt8(ascii: "-")
        else {
            throw RPCError(code: .invalidArgument, message: "the user id (the request's common name) must be 3-64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit")
        }
    }
}

/// The address key failed logins are counted under: IPv4 whole, IPv6 by /64.
enum AddressKey {
    static func group(_ ipAddress: String?) -> String {
        guard let ipAddress else { return "local" }
        guard ipAddress.contains(":") else { return ipAddress }
        let groups = ipAddress.split(separator: ":", omittingEmptySubsequences: false)
        return groups.prefix(4).joined(separator: ":") + "::/64"
    }
}

/// What a KeyPackage must be (auth.proto): 32-byte keys and a signature by the registration's
/// certificate request key over the encoded KeyPackageContent.
enum KeyPackageCheck {
    static let label = "bastion-key-package-v1"

    static func content(handle: String, initKey: [UInt8], signatureKey: [UInt8]) -> [UInt8] {
        Bastion_Auth_V1_KeyPackageContent {
            $0.label = label
            $0.registrationHandle = handle
            $0.initKey = initKey
            $0.signatureKey = signatureKey
        }.serializedBytes()
    }

    static func validate(_ package: Bastion_Auth_V1_KeyPackage, handle: String, request: SigningRequest) throws(RPCError) {
        guard package.initKey.count == 32, package.signatureKey.count == 32 else {
            throw RPCError(code: .invalidArgument, message: "key_package: init_key and signature_key must have 32 bytes each")
        }
        guard package.initKey.contains(where: { $0 != 0 }), package.signatureKey.contains(where: { $0 != 0 }) else {
            throw RPCError(code: .invalidArgument, message: "key_package: a key is all zeros")
        }
        let signed = content(handle: handle, initKey: package.initKey, signatureKey: package.signatureKey)
        guard request.verify(signature: package.signature, over: signed) else {
            throw RPCError(code: .invalidArgument, message: "key_package: the signature does not verify with the certificate request's key")
        }
    }
}
