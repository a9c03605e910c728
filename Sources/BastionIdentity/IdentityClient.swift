public import BastionCrypto
import BastionPolicy
import BastionProtobuf
public import BastionRPC
public import BastionTLS
import Foundation

/// The client side of registration, login and deletion over the generated `Auth` stub: what the
/// `bastion` CLI and Swift programs call.
public struct IdentityClient: Sendable {
    /// What a registration leaves with the client; keep `key` and the keys' private halves secret.
    public struct Registration: Sendable {
        public var userID: String
        public var key: ClientKey
        public var certificateDER: [UInt8]
        public var initKey: RawKeyPair
        public var signatureKey: RawKeyPair
    }

    /// A logged-in session: send both on every call (``metadata``).
    public struct Session: Sendable, Hashable, Codable {
        public var token: String
        public var contextSecret: String
        public var expiresUnixSeconds: Int64

        public init(token: String, contextSecret: String, expiresUnixSeconds: Int64) {
            self.token = token
            self.contextSecret = contextSecret
            self.expiresUnixSeconds = expiresUnixSeconds
        }

        public var metadata: Metadata {
            var metadata = Metadata()
            try? metadata.add(SessionTokens.tokenMetadataKey, "Bearer \(token)")
            try? metadata.add(SessionTokens.contextMetadataKey, contextSecret)
            return metadata
        }
    }

    let auth: Bastion_Auth_V1_AuthClient
    let opaque: OPAQUE.Client

    /// A client with Bastion's OPAQUE configuration. The key-stretching function runs only here,
    /// on the client; a client must use the same one for registration and every login.
    public init(transport: any ClientTransport, configuration: OPAQUE.Configuration? = nil) throws {
        self.auth = Bastion_Auth_V1_AuthClient(transport: transport)
        self.opaque = OPAQUE.Client(configuration: try configuration ?? .bastion())
    }

    /// Registers `userID`: makes the client's key and CSR, runs OPAQUE's registration (solving
    /// the proof of work the server asks for), and returns the issued certificate.
    public func register(userID: String, password: [UInt8]) async throws -> Registration {
        let key = try ClientKey()
        let (registrationRequest, state) = try opaque.createRegistrationRequest(password: password)
        let request = Bastion_Auth_V1_InitiateRegistrationRequest {
            $0.clientCsr = (try? key.signingRequest(commonName: userID)) ?? []
            $0.opaqueRegistrationRequest = registrationRequest.serialized
        }
        let started = try await withProofOfWork(method: Bastion_Auth_V1_Auth.Method.initiateRegistration.path, request: request) { metadata in
            try await auth.initiateRegistration(request, metadata: metadata).message
        }
        let result = try opaque.finalizeRegistration(
            response: OPAQUE.RegistrationResponse(serialized: started.opaqueRegistrationResponse),
            state: state
        )
        let initKey = try RawKeyPair(.x25519)
        let signatureKey = try RawKeyPair(.ed25519)
        let content = Bastion_Auth_V1_KeyPackageContent {
            $0.label = "bastion-key-package-v1"
            $0.registrationHandle = started.registrationHandle
            $0.initKey = initKey.publicKey
            $0.signatureKey = signatureKey.publicKey
        }
        let signature = try key.sign(content.serializedBytes())
        var metadata = Metadata()
        try metadata.add(AuthService.registrationMetadataKey, started.registrationHandle)
        let finish = Bastion_Auth_V1_FinishRegistrationRequest {
            $0.opaqueRegistrationRecord = result.record.serialized
            $0.keyPackage = Bastion_Auth_V1_KeyPackage {
                $0.initKey = initKey.publicKey
                $0.signatureKey = signatureKey.publicKey
                $0.signature = signature
            }
        }
        let finished = try await auth.finishRegistration(finish, metadata: metadata).message
        return Registration(userID: finished.userId, key: key, certificateDER: finished.clientCertificate, initKey: initKey, signatureKey: signatureKey)
    }

    /// Logs in with OPAQUE and returns the session.
    public func login(userID: String, password: [UInt8]) async throws -> Session {
        let proof = try await passwordProof(userID: userID, password: password)
        let request = Bastion_Auth_V1_LoginFinishRequest {
            $0.loginHandle = proof.handle
            $0.ke3 = proof.ke3
        }
        let finished = try await auth.loginFinish(request).message
        return Session(token: finished.sessionToken, contextSecret: finished.contextSecret, expiresUnixSeconds: finished.expiresUnixSeconds)
    }

    /// LoginStart and KE3: a fresh proof of the password, for LoginFinish or DeleteAccount. A
    /// wrong password fails here, on the client, before anything is sent.
    public func passwordProof(userID: String, password: [UInt8]) async throws -> (handle: String, ke3: [UInt8]) {
        let (ke1, state) = try opaque.generateKE1(password: password)
        let request = Bastion_Auth_V1_LoginStartRequest {
            $0.userId = userID
            $0.ke1 = ke1.serialized
        }
        let started = try await auth.loginStart(request).message
        let result = try opaque.generateKE3(ke2: OPAQUE.KE2(serialized: started.ke2), state: state)
        return (started.loginHandle, result.ke3.serialized)
    }

    public func whoAmI(_ session: Session) async throws -> Bastion_Auth_V1_WhoAmIResponse {
        try await auth.whoAmI(.init(), metadata: session.metadata).message
    }

    public func logout(_ session: Session) async throws {
        _ = try await auth.logout(.init(), metadata: session.metadata)
    }

    /// Deletes the account; the transport must present the user's client certificate. A user
    /// with a second factor proves one for this exact request with `secondFactor`.
    public func deleteAccount(userID: String, password: [UInt8], secondFactor: TwoFactorClient.Prover? = nil) async throws {
        let proof = try await passwordProof(userID: userID, password: password)
        let request = Bastion_Auth_V1_DeleteAccountRequest {
            $0.userId = userID
            $0.loginHandle = proof.handle
            $0.ke3 = proof.ke3
        }
        _ = try await TwoFactorClient(transport: auth.client.transport).withSecondFactor(prove: secondFactor) { metadata in
            try await auth.deleteAccount(request, metadata: metadata)
        }
    }

    /// Calls once; when the server asks for proof of work, solves it for this exact request and
    /// calls again.
    func withProofOfWork<Response: Sendable>(
        method: String,
        request: some ProtobufMessage,
        _ call: (Metadata) async throws -> Response
    ) async throws -> Response {
        do {
            return try await call(Metadata())
        } catch let error as RPCError where error.code == .failedPrecondition && error.proofOfWorkDifficulty != nil {
            let proof = ProofOfWork.solve(
                difficulty: error.proofOfWorkDifficulty ?? 0,
                method: method,
                request: request.serializedBytes(),
                timestamp: Int64(Date().timeIntervalSince1970)
            )
            var metadata = Metadata()
            try metadata.add(ProofOfWork.metadataKey, proof.metadataValue)
            return try await call(metadata)
        }
    }
}
