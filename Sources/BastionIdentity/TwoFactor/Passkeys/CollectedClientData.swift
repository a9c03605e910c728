import Foundation

/// The client data (WebAuthn §5.8.1) that a browser or client library collects and the
/// authenticator signs by hash: the ceremony's type, the server's challenge, the caller's origin.
public struct CollectedClientData: Sendable, Hashable {
    public static let maxLength = 4 * 1024

    /// The exact bytes received; their SHA-256 is what the authenticator signed.
    public let bytes: [UInt8]
    /// `webauthn.create` or `webauthn.get`.
    public let type: String
    /// The challenge, decoded from its base64url form.
    public let challenge: [UInt8]
    public let origin: String
    public let crossOrigin: Bool
    public let topOrigin: String?

    private struct Fields: Decodable {
        var type: String
        var challenge: String
        var origin: String
        var crossOrigin: Bool?
        var topOrigin: String?
    }

    public init(_ bytes: [UInt8]) throws(WebAuthnError) {
        guard bytes.count <= Self.maxLength else {
            throw WebAuthnError(.limitExceeded, "client data over \(Self.maxLength) bytes")
        }
        let fields: Fields
        do {
            fields = try JSONDecoder().decode(Fields.self, from: Data(bytes))
        } catch {
            throw WebAuthnError(
                .malformed,
                "the client data is not a JSON object with type, challenge and origin strings"
            )
        }
        guard let challenge = [UInt8](base64URL: fields.challenge), !challenge.isEmpty else {
            throw WebAuthnError(.malformed, "the client data's challenge is not base64url without padding")
        }
        self.bytes = bytes
        self.type = fields.type
        self.challenge = challenge
        self.origin = fields.origin
        self.crossOrigin = fields.crossOrigin ?? false
        self.topOrigin = fields.topOrigin
    }
}
