import BastionProtobuf
import BastionRPC

/// The shape a sealed envelope must have (`bastion.rpc.v1.SealedEnvelope`, version 1). The server
/// cannot open it; it checks only that it could be one, so that a client cannot slip plaintext
/// past a method whose policy promises that the server never sees it.
enum SealedEnvelopeCheck {
    static let maxRecipientKeyIDBytes = 64
    static let publicKeyBytes = 32
    static let tagBytes = 16

    /// Why the field's value is not a sealed envelope, or nil when it is one.
    static func problem(with value: RequestFieldValue?) -> String? {
        let envelope: RPCSealedEnvelope
        switch value {
        case nil:
            return "the field is empty"
        case .sealedEnvelope(let value):
            envelope = value
        case .bytes(let bytes):
            guard let decoded = try? RPCSealedEnvelope(serializedBytes: bytes) else {
                return "the bytes are not a bastion.rpc.v1.SealedEnvelope"
            }
            envelope = decoded
        case .string:
            return "the field holds text"
        }
        guard envelope.version == 1 else { return "version \(envelope.version) is not a known sealing scheme" }
        guard !envelope.recipientKeyId.isEmpty, envelope.recipientKeyId.count <= maxRecipientKeyIDBytes else {
            return "the recipient key id must have 1 to \(maxRecipientKeyIDBytes) bytes"
        }
        guard envelope.ephemeralPublicKey.count == publicKeyBytes else {
            return "the ephemeral public key must have \(publicKeyBytes) bytes"
        }
        guard envelope.ciphertext.count >= tagBytes else {
            return "the ciphertext is shorter than its \(tagBytes)-byte authentication tag"
        }
        return nil
    }
}
