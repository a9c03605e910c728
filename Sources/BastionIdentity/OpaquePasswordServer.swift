public import BastionCrypto
public import BastionStore

/// OPAQUE's server side (BastionCrypto) as the authentication service uses it.
public struct OpaquePasswordServer: PasswordServer {
    static let setupTable = Table<String, [UInt8]>("identity.opaque_setup")

    let server: OPAQUE.Server

    public init(setup: OPAQUE.ServerSetup) throws {
        self.server = OPAQUE.Server(setup: setup, configuration: try .bastion())
    }

    /// The server's OPAQUE secrets (OPRF seed, AKE key pair, fake record) from the store, made
    /// on the first start. They stay for the store's life: new ones would invalidate every
    /// registration.
    public static func loadOrCreateSetup(in store: Store) throws -> OPAQUE.ServerSetup {
        try store.withWriteTransactionBlocking { txn in
            if let bytes = try txn.get(setupTable, "setup") {
                return try OPAQUE.ServerSetup(serialized: bytes)
            }
            let setup = OPAQUE.ServerSetup.generate()
            try txn.put(setupTable, "setup", setup.serialized.bytes)
            return setup
        }
    }

    public func registrationResponse(request: [UInt8], credentialIdentifier: [UInt8]) throws -> [UInt8] {
        try server.createRegistrationResponse(
            request: OPAQUE.RegistrationRequest(serialized: request),
            credentialIdentifier: credentialIdentifier
        ).serialized
    }

    public func validateRecord(_ record: [UInt8]) throws {
        _ = try OPAQUE.RegistrationRecord(serialized: record)
    }

    public func startLogin(ke1: [UInt8], record: [UInt8]?, credentialIdentifier: [UInt8]) throws -> (ke2: [UInt8], state: [UInt8]) {
        let start = try server.generateKE2(
            ke1: OPAQUE.KE1(serialized: ke1),
            record: try record.map { bytes throws(CryptoError) in try OPAQUE.RegistrationRecord(serialized: bytes) },
            credentialIdentifier: credentialIdentifier
        )
        return (start.ke2.serialized, start.state.serialized.bytes)
    }

    public func finishLogin(ke3: [UInt8], state: [UInt8]) throws {
        _ = try server.finish(ke3: OPAQUE.KE3(serialized: ke3), state: OPAQUE.ServerLoginState(serialized: state))
    }
}
