import ArgumentParser
import BastionIdentity

/// The WebAuthn relying party `bastiond` is for passkeys: `--webauthn-rp-id`, `--webauthn-origin`
/// (repeatable), `--webauthn-rp-name`, `--webauthn-user-verification` and
/// `--webauthn-challenge-lifetime`, or the configuration file's keys of the same names in camel
/// case. Without an RP ID passkeys are off, except with `--dev`, which takes `localhost` and the
/// origins `https://localhost` and `http://localhost`.
struct WebAuthnSettings {
    var relyingParty: WebAuthnRelyingParty?
    var challengeLifetime: Duration = .seconds(120)

    static func resolve(_ command: BastionDaemon, _ file: DaemonSettings.File, dev: Bool) throws -> WebAuthnSettings {
        var settings = WebAuthnSettings()
        let origins = command.webauthnOrigin.isEmpty ? (file.webauthnOrigins ?? []) : command.webauthnOrigin
        let rpID: String
        if let given = command.webauthnRpId ?? file.webauthnRpId {
            rpID = given
        } else if dev {
            rpID = "localhost"
        } else {
            guard origins.isEmpty else { throw ValidationError("--webauthn-origin needs --webauthn-rp-id") }
            return settings
        }
        guard Self.isDomain(rpID) else {
            throw ValidationError(
                "--webauthn-rp-id \(rpID) is not a domain name (e.g. example.com: lower case, no scheme, no port)"
            )
        }
        let allowed: [String]
        if !origins.isEmpty {
            allowed = origins
        } else if rpID == "localhost" {
            allowed = ["https://localhost", "http://localhost"]
        } else {
            allowed = ["https://\(rpID)"]
        }
        for origin in allowed {
            guard let host = Self.host(ofOrigin: origin) else {
                throw ValidationError(
                    "--webauthn-origin \(origin) is not an origin: https://<host>[:port] (http:// only for localhost)"
                )
            }
            guard host == rpID || host.hasSuffix("." + rpID) else {
                throw ValidationError("--webauthn-origin \(origin): its host must be \(rpID) or a subdomain of it")
            }
        }
        var userVerification = WebAuthnRelyingParty.UserVerification.preferred
        if let text = command.webauthnUserVerification ?? file.webauthnUserVerification {
            guard let parsed = WebAuthnRelyingParty.UserVerification(rawValue: text) else {
                throw ValidationError("--webauthn-user-verification must be required, preferred or discouraged")
            }
            userVerification = parsed
        }
        if let seconds = command.webauthnChallengeLifetime ?? file.webauthnChallengeLifetime {
            guard (1...600).contains(seconds) else {
                throw ValidationError("--webauthn-challenge-lifetime must be 1 to 600 seconds")
            }
            settings.challengeLifetime = .seconds(seconds)
        }
        settings.relyingParty = WebAuthnRelyingParty(
            id: rpID,
            name: command.webauthnRpName ?? file.webauthnRpName ?? "Bastion",
            origins: allowed,
            userVerification: userVerification
        )
        return settings
    }

    /// The configuration for the second-factor service, or nil when passkeys are off.
    var configuration: TwoFactorService.PasskeyConfiguration? {
        guard let relyingParty else { return nil }
        var configuration = TwoFactorService.PasskeyConfiguration(relyingParty: relyingParty)
        configuration.challengeLifetime = challengeLifetime
        return configuration
    }

    static func isDomain(_ text: String) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return text.utf8.count <= 253 && !labels.isEmpty
            && labels.allSatisfy { label in
                (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                    && label.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
            }
    }

    /// The host of `https://host[:port]`, or of `http://localhost[:port]`; nil for anything else.
    static func host(ofOrigin origin: String) -> String? {
        let rest: Substring
        if origin.hasPrefix("https://") {
            rest = origin.dropFirst("https://".count)
        } else if origin.hasPrefix("http://localhost") {
            rest = origin.dropFirst("http://".count)
        } else {
            return nil
        }
        let parts = rest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2 {
            guard let port = Int(parts[1]), (1...65535).contains(port), String(port) == parts[1] else { return nil }
        }
        let host = String(parts[0])
        return isDomain(host) ? host : nil
    }
}
