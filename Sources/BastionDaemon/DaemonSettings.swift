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
        var clientAuth: String?
        var dev: Bool?
        var plaintext: Bool?
        var maxConcurrentCalls: Int?
        var gracePeriod: Int?
        var logLevel: String?
        var metricsHost: String?
        var metricsPort: Int?
    }

    var host = "127.0.0.1"
    var port = 7443
    var dataDir = "data"
    var cert: String?
    var key: String?
    var clientCA: String?
    var clientAuth: TLSClientAuthentication = .none
    var dev = false
    var plaintext = false
    var maxConcurrentCalls = 100
    var gracePeriod = 10
    var logLevel = Logger.Level.info
    var portFile: String?
    var metricsHost = "127.0.0.1"
    /// nil: no metrics endpoint.
    var metricsPort: Int?

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
        settings.dev = command.dev || (file.dev ?? false)
        settings.plaintext = command.plaintext || (file.plaintext ?? false)
        settings.maxConcurrentCalls = command.maxConcurrentCalls ?? file.maxConcurrentCalls ?? settings.maxConcurrentCalls
        settings.gracePeriod = command.gracePeriod ?? file.gracePeriod ?? settings.gracePeriod
        settings.portFile = command.portFile
        settings.metricsHost = command.metricsHost ?? file.metricsHost ?? settings.metricsHost
        settings.metricsPort = command.metricsPort ?? file.metricsPort

        if let level = command.logLevel ?? file.logLevel {
            guard let parsed = Logger.Level(rawValue: level) else {
                throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
            }
            settings.logLevel = parsed
        }
        switch command.clientAuth ?? file.clientAuth ?? (settings.clientCA == nil ? "none" : "optional") {
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
        if settings.plaintext {
            guard Loopback.contains(settings.host) else {
                throw ValidationError("--plaintext is allowed only on loopback addresses")
            }
        } else if settings.cert == nil || settings.key == nil {
            guard settings.dev else {
                throw ValidationError("TLS needs --cert and --key (or --dev for a development certificate, or --plaintext on loopback)")
            }
        }
        if settings.clientAuth != .none, settings.clientCA == nil, !settings.dev {
            throw ValidationError("--client-auth \(settings.clientAuth) needs --client-ca")
        }
        if let metricsPort = settings.metricsPort, !(0...65535).contains(metricsPort) {
            throw ValidationError("--metrics-port must be 0 to 65535")
        }
        return settings
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
        var configuration = TLSConfiguration.server(certificateChain: .file(certificate!), privateKey: .file(privateKey!))
        if let trust { configuration.trustRoots = .file(trust) }
        configuration.clientAuthentication = clientAuth
        return (try TLSContext(configuration: configuration), certificate!, privateKey!)
    }
}
