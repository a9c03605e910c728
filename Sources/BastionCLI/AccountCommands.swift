import ArgumentParser
import BastionIdentity
import BastionRPC
import BastionTLS
import BastionTransport
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where the CLI keeps a user's client key, certificate and session: one folder per user id,
/// mode 0700, files 0600.
struct AccountOptions: ParsableArguments {
    @Option(help: "The user id.")
    var user: String

    @Option(help: "The folder holding one folder per user id. (default: ~/.bastion/profiles)")
    var profiles: String?

    @Option(help: "Read the password from this file (its first line) instead of asking.")
    var passwordFile: String?

    var folder: URL {
        let home = ProcessInfo.processInfo.environment["HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        let base = profiles.map { URL(fileURLWithPath: $0) } ?? home.appendingPathComponent(".bastion/profiles")
        return base.appendingPathComponent(user)
    }

    var certificatePath: String { folder.appendingPathComponent("client.pem").path }
    var keyPath: String { folder.appendingPathComponent("client.key").path }
    var sessionPath: String { folder.appendingPathComponent("session.json").path }

    /// The password: from --password-file, the BASTION_PASSWORD variable, or a prompt without
    /// echo.
    func password(confirm: Bool = false) throws -> [UInt8] {
        if let passwordFile {
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8), let line = text.split(separator: "\n").first else {
                throw ValidationError("cannot read a password from \(passwordFile)")
            }
            return Array(line.utf8)
        }
        if let variable = ProcessInfo.processInfo.environment["BASTION_PASSWORD"], !variable.isEmpty {
            return Array(variable.utf8)
        }
        let password = try Self.prompt("Password for \(user): ")
        if confirm, try Self.prompt("Again: ") != password {
            throw ValidationError("the passwords differ")
        }
        guard !password.isEmpty else { throw ValidationError("the password is empty") }
        return password
    }

    static func prompt(_ text: String) throws -> [UInt8] {
        FileHandle.standardError.write(Data(text.utf8))
        var original = termios()
        let isTerminal = tcgetattr(STDIN_FILENO, &original) == 0
        if isTerminal {
            var silent = original
            silent.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSANOW, &silent)
        }
        defer {
            if isTerminal {
                tcsetattr(STDIN_FILENO, TCSANOW, &original)
                FileHandle.standardError.write(Data("\n".utf8))
            }
        }
        guard let line = readLine(strippingNewline: true) else { throw ValidationError("no password given") }
        return Array(line.utf8)
    }

    func write(_ bytes: [UInt8], to path: String) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("cannot write \(path)")
        }
    }

    func loadSession() throws -> IdentityClient.Session {
        guard let data = FileManager.default.contents(atPath: sessionPath) else {
            throw CleanFailure("\(user) is not logged in here (no \(sessionPath)); run bastion login --user \(user)")
        }
        return try JSONDecoder().decode(IdentityClient.Session.self, from: data)
    }
}

extension ConnectionOptions {
    /// These options, presenting the profile's client certificate when they name none.
    func withClientCertificate(of account: AccountOptions) throws -> ConnectionOptions {
        var options = self
        if options.cert == nil {
            guard FileManager.default.fileExists(atPath: account.certificatePath) else {
                throw CleanFailure("no client certificate for \(account.user) in \(account.folder.path); register first")
            }
            options.cert = account.certificatePath
            options.key = account.keyPath
        }
        return options
    }
}

/// `bastion register`: a new user, with this machine as its first client.
struct RegisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Register a user: make this client's key, prove the password with OPAQUE, and store the issued certificate.",
        discussion: "The key, certificate and messaging keys go to <profiles>/<user>/ (mode 0700). The password never leaves this machine."
    )

    @OptionGroup var account: AccountOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        guard !FileManager.default.fileExists(atPath: account.certificatePath) else {
            throw CleanFailure("\(account.folder.path) already holds a registration; remove it first")
        }
        let password = try account.password(confirm: true)
        let client = try IdentityClient(transport: try await connection.connect())
        FileHandle.standardError.write(Data("registering \(account.user) (this may take a few seconds: proof of work and Argon2id)…\n".utf8))
        let registration = try await client.register(userID: account.user, password: password)
        try account.write(try registration.key.privateKeyPEM(), to: account.keyPath)
        try account.write(Array(PEM.certificate(registration.certificateDER).utf8), to: account.certificatePath)
        try account.write(Array((registration.initKey.privateKey.hex + "\n").utf8), to: account.folder.appendingPathComponent("init.key").path)
        try account.write(Array((registration.signatureKey.privateKey.hex + "\n").utf8), to: account.folder.appendingPathComponent("signature.key").path)
        print("registered \(registration.userID); client certificate in \(account.certificatePath)")
    }
}

/// `bastion login`: a session for this user, kept in the profile.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log in with OPAQUE and keep the session token and its context secret in the profile."
    )

    @OptionGroup var account: AccountOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let password = try account.password()
        let client = try IdentityClient(transport: try await connection.connect())
        let session: IdentityClient.Session
        do {
            session = try await client.login(userID: account.user, password: password)
        } catch let error as RPCError {
            throw error
        } catch {
            // OPAQUE fails on this side when the password is wrong or the user unknown, alike.
            throw CleanFailure("login failed: wrong user id or password")
        }
        try account.write(Array(try JSONEncoder().encode(session)), to: account.sessionPath)
        let expiry = Date(timeIntervalSince1970: TimeInterval(session.expiresUnixSeconds))
        print("logged in as \(account.user) until \(expiry)")
    }
}

/// `bastion whoami`: who the stored session belongs to, as the server sees it.
struct WhoAmICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "whoami", abstract: "Show whom the stored session logs in as.")

    @OptionGroup var account: AccountOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let session = try account.loadSession()
        let client = try IdentityClient(transport: try await connection.connect())
        let me = try await client.whoAmI(session)
        print("\(me.userId) (role \(me.role)), session until \(Date(timeIntervalSince1970: TimeInterval(me.sessionExpiresUnixSeconds)))")
    }
}

/// `bastion logout`: ends the stored session on the server and forgets it here.
struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "End the stored session.")

    @OptionGroup var account: AccountOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let session = try account.loadSession()
        let client = try IdentityClient(transport: try await connection.connect())
        try await client.logout(session)
        try FileManager.default.removeItem(atPath: account.sessionPath)
        print("logged out")
    }
}

/// `bastion delete-account`: removes the user and everything the server keeps about them.
struct DeleteAccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete-account",
        abstract: "Delete the user's account: needs this client's certificate and the password.",
        discussion: "Everything the server keeps about the user goes, at once; the profile folder is removed too."
    )

    @OptionGroup var account: AccountOptions
    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    @Option(
        help: ArgumentHelp(
            "A code of the user's second factor (TOTP or a recovery code), when the user has one. "
                + "(default: the BASTION_SECOND_FACTOR_CODE variable, else a prompt)"
        )
    )
    var secondFactorCode: String?

    func run() async throws {
        if !yes {
            FileHandle.standardError.write(Data("Type the user id to delete \(account.user) for good: ".utf8))
            guard readLine() == account.user else { throw CleanFailure("not deleted") }
        }
        let password = try account.password()
        let client = try IdentityClient(transport: try await connection.withClientCertificate(of: account).connect())
        let given = secondFactorCode ?? ProcessInfo.processInfo.environment["BASTION_SECOND_FACTOR_CODE"]
        // Asked only when the server says the user has a second factor.
        let prove: TwoFactorClient.Prover = { challenge in
            if challenge.factors.allSatisfy({ $0.kind == "passkey" }) {
                throw CleanFailure(
                    "\(account.user)'s second factors are passkeys, which need an authenticator: use a browser or the Python client (bastion_client.passkeys); this tool takes TOTP and recovery codes"
                )
            }
            let code: String
            if let given, !given.isEmpty {
                code = given
            } else {
                let kinds = Set(challenge.factors.map(\.kind)).sorted().joined(separator: " or ")
                code = String(decoding: try AccountOptions.prompt("Second factor (\(kinds)) code: "), as: UTF8.self)
            }
            guard let factor = challenge.factor(forCode: code) else {
                throw CleanFailure("the code is neither a TOTP code nor a recovery code of this user")
            }
            return (factor.id, code)
        }
        try await client.deleteAccount(userID: account.user, password: password, secondFactor: prove)
        try? FileManager.default.removeItem(at: account.folder)
        print("deleted \(account.user)")
    }
}

/// An error printed as one line without a stack of types.
struct CleanFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum PEM {
    static func certificate(_ der: [UInt8]) -> String {
        let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN CERTIFICATE-----\n\(base64)\n-----END CERTIFICATE-----\n"
    }
}

extension Array where Element == UInt8 {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
