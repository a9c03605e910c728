import ArgumentParser
import BastionTLS
import BastionTransport
import Foundation
import Logging

/// The server's settings after merging the configuration file and the flags.
struct DaemonSettings {
    /// The configuration file's shape: every key optional.
    struct File: Decodable {
        var host: String?
        var port: Int?
        var dataDir: String?
        var cert: String?
        var key: String?
        var clientCA: String?
        var clientCAKey: String?
        var clientAuth: String?
        var dev: Bool?
        var plaintext: Bool?
        var maxConcurrentCalls: Int?
        var maxMessageSize: Int?
        var initialStreamWindow: Int?
        var maxConnectionsPerAddress: Int?
        var maxConnections: Int?
        var idleTimeout: Int?
        var gracePeriod: Int?
        var logLevel: String?
        var adminSocket: String?
        var operatorCertificateFingerprints: [String]?
        var metricsHost: String?
        var metricsPort: Int?
        var channels: [String: String]?
        var channelTimeout: Int?
        var supportUsers: [String]?
        var webauthnRpId: String?
        var webauthnRpName: String?
        var webauthnOrigins: [String]?
        var webauthnUserVerification: String?
        var webauthnChallengeLifetime: Int?
        var queueMaxMessages: UInt64?
        var queueMaxBytes: UInt64?
    }

    var host = "127.0.0.1"
    var port = 7443
    var dataDir = "data"
    var cert: String?
    var key: String?
    var clientCA: String?
    var clientCAKey: String?
    var clientAuth: TLSClientAuthentication = .none
    var dev = false
    var plaintext = false
    var maxConcurrentCalls = 100
    /// Largest message a client may send, in bytes (the protocol's default and minimum apply).
    var maxMessageSize = 4 << 20
    /// Flow-control credit per stream, in bytes.
    var initialStreamWindow = 1 << 20
    var maxConnectionsPerAddress = 100
    var maxConnections = 10_000
    /// Seconds a connection without calls or frames stays open.
    var idleTimeout = 300
    var gracePeriod = 10
    var logLevel = Logger.Level.info
    var portFile: String?
    /// The admin socket's path; nil when there is none (`--admin-socket none`).
    var adminSocket: String?
    /// SHA-256 fingerprints (lower-case hex) of the client certificates that are operators'.
    var operatorCertificateFingerprints: Set<String> = []
    var metricsHost = "127.0.0.1"
    /// nil: no metrics endpoint.
    var metricsPort: Int?
    /// Code channels by name → command (DaemonSettings+Channels.swift).
    var channels: [String: String] = [:]
    var channelTimeout = 30
    var supportUsers: Set<String> = []
    /// Passkeys' relying party (DaemonSettings+Passkeys.swift).
    var webAuthn = WebAuthnSettings()
    /// Per-queue quotas; nil keeps QueueService's defaults.
    var queueMaxMessages: UInt64?
    var queueMaxBytes: UInt64?

    static func resolve(_ command: BastionDaemon) throws -> DaemonSettings {
        var file = File()
        if let path = command.config {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read the configuration file \(path)")
            }
            do {
                file = try JSONDecoder().decode(File.self, from: data)
            } catch {
                throw ValidationError("\(path) is not a valid configuration: \(error)")
            }
        }
        var settings = DaemonSettings()
        settings.host = command.host ?? file.host ?? settings.host
        settings.port = command.port ?? file.port ?? settings.port
        settings.dataDir = command.dataDir ?? file.dataDir ?? settings.dataDir
        settings.cert = command.cert ?? file.cert
        settings.key = command.key ?? file.key
        settings.clientCA = command.clientCA ?? file.clientCA
        settings.clientCAKey = command.clientCAKey ?? file.clientCAKey
        settings.dev = command.dev || (file.dev ?? false)
        settings.plaintext = command.plaintext || (file.plaintext ?? false)
        settings.maxConcurrentCalls =
            command.maxConcurrentCalls ?? file.maxConcurrentCalls ?? settings.maxConcurrentCalls
        settings.maxMessageSize = command.maxMessageSize ?? file.maxMessageSize ?? settings.maxMessageSize
        settings.initialStreamWindow =
            command.initialStreamWindow ?? file.initialStreamWindow ?? settings.initialStreamWindow
        settings.maxConnectionsPerAddress =
            command.maxConnectionsPerAddress ?? file.maxConnectionsPerAddress ?? settings.maxConnectionsPerAddress
        settings.maxConnections = command.maxConnections ?? file.maxConnections ?? settings.maxConnections
        settings.idleTimeout = command.idleTimeout ?? file.idleTimeout ?? settings.idleTimeout
        settings.gracePeriod = command.gracePeriod ?? file.gracePeriod ?? settings.gracePeriod
        settings.portFile = command.portFile
        switch command.adminSocket ?? file.adminSocket {
        case "none", "": settings.adminSocket = nil
        case let path?: settings.adminSocket = path
        case nil: settings.adminSocket = settings.dataDir + "/admin.sock"
        }
        settings.metricsHost = command.metricsHost ?? file.metricsHost ?? settings.metricsHost
        settings.metricsPort = command.metricsPort ?? file.metricsPort
        settings.webAuthn = try WebAuthnSettings.resolve(command, file, dev: settings.dev)
        settings.queueMaxMessages = command.queueMaxMessages ?? file.queueMaxMessages
        settings.queueMaxBytes = command.queueMaxBytes ?? file.queueMaxBytes
        for fingerprint in command.operatorCertFingerprint + (file.operatorCertificateFingerprints ?? []) {
            guard let normalized = Self.normalizeFingerprint(fingerprint) else {
                throw ValidationError(
                    "\(fingerprint) is not a SHA-256 certificate fingerprint (64 hex digits, colons allowed)"
                )
            }
            settings.operatorCertificateFingerprints.insert(normalized)
        }

        try settings.resolveChannels(command, file)
        if let level = command.logLevel ?? file.logLevel {
            guard let parsed = Logger.Level(rawValue: level) else {
                throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
            }
            settings.logLevel = parsed
        }
        // Registered clients and operators present certificates, so the server asks for them when
        // it has a client CA (its own development CA with --dev).
        let asksForCertificates = settings.clientCA != nil || settings.dev
        switch command.clientAuth ?? file.clientAuth ?? (asksForCertificates ? "optional" : "none") {
        case "none": settings.clientAuth = .none
        case "optional": settings.clientAuth = .optional
        case "required": settings.clientAuth = .required
        case let other: throw ValidationError("--client-auth must be none, optional or required, not \(other)")
        }
        guard (1...65535).contains(settings.port) || settings.port == 0 else {
            throw ValidationError("--port must be 0 to 65535")
        }
        guard settings.maxConcurrentCalls > 0, settings.gracePeriod >= 0 else {
            throw ValidationError("--max-concurrent-calls must be positive and --grace-period not negative")
        }
        guard settings.queueMaxMessages != 0, settings.queueMaxBytes != 0 else {
            throw ValidationError("--queue-max-messages and --queue-max-bytes must be positive")
        }
        // The protocol reads smaller values than these as these (docs/PROTOCOL.md, section 5), so
        // announcing less would promise a limit the peer does not keep.
        guard (1024...(1 << 30)).contains(settings.maxMessageSize) else {
            throw ValidationError("--max-message-size must be 1024 to 1073741824 bytes")
        }
        guard ((64 << 10)...Int(Int32.max)).contains(settings.initialStreamWindow) else {
            throw ValidationError("--initial-stream-window must be 65536 to 2147483647 bytes")
        }
        guard settings.maxConnectionsPerAddress > 0, settings.maxConnections > 0, settings.idleTimeout > 0 else {
            throw ValidationError("--max-connections, --max-connections-per-address and --idle-timeout must be positive")
        }
        if settings.plaintext {
            guard Loopback.contains(settings.host) else {
                throw ValidationError("--plaintext is allowed only on loopback addresses")
            }
        } else if settings.cert == nil || settings.key == nil {
            guard settings.dev else {
                throw ValidationError(
                    "TLS needs --cert and --key (or --dev for a development certificate, or --plaintext on loopback)"
                )
            }
        }
        if settings.clientCAKey != nil, settings.clientCA == nil {
            throw ValidationError("--client-ca-key needs --client-ca (the certificate of that key)")
        }
        if settings.clientAuth != .none, settings.clientCA == nil, !settings.dev {
            throw ValidationError("--client-auth \(settings.clientAuth) needs --client-ca")
        }
        if !settings.operatorCertificateFingerprints.isEmpty {
            guard !settings.plaintext, settings.clientAuth != .none else {
                throw ValidationError(
                    "--operator-cert-fingerprint needs TLS with client certificates (--client-ca, or --dev)"
                )
            }
        }
        if let metricsPort = settings.metricsPort, !(0...65535).contains(metricsPort) {
            throw ValidationError("--metrics-port must be 0 to 65535")
        }
        if let path = settings.adminSocket, path.utf8.count > 100 {
            throw ValidationError(
                "--admin-socket \(path) is too long for a Unix socket (at most 100 bytes); choose a shorter path"
            )
        }
        return settings
    }

    /// Lower-case hex without separators, as `RPCPeer.Certificate.fingerprint` has it; nil unless
    /// the text is 32 bytes in hex. What `openssl x509 -noout -fingerprint -sha256` prints
    /// (`sha256 Fingerprint=AB:CD:…`) is fine.
    static func normalizeFingerprint(_ text: String) -> String? {
        let value = text.split(separator: "=").last ?? ""
        let hex = value.lowercased().filter { $0 != ":" }
        guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else { return nil }
        return hex
    }

    /// The TLS context (the given certificate, or a development one made on first use), and
    /// the certificate and key files it was made from.
    func tlsContext(logger: Logger) throws -> (TLSContext, certificate: String, key: String) {
        var certificate = cert
        var privateKey = key
        var trust = clientCA
        if certificate == nil || privateKey == nil {
            let directory = dataDir + "/dev-certs"
            let files = DevelopmentCertificates.Files(directory: directory)
            if !FileManager.default.fileExists(atPath: files.serverCertificate) {
                try DevelopmentCertificates.generate(directory: directory)
                logger.notice("made a development CA and certificates", metadata: ["directory": "\(directory)"])
            }
            certificate = files.serverCertificate
            privateKey = files.serverPrivateKey
            trust = trust ?? files.caCertificate
        }
        var configuration = TLSConfiguration.server(
            certificateChain: .file(certificate!),
            privateKey: .file(privateKey!)
        )
        if let trust { configuration.trustRoots = .file(trust) }
        configuration.clientAuthentication = clientAuth
        return (try TLSContext(configuration: configuration), certificate!, privateKey!)
    }
}
