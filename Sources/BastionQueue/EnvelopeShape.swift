import BastionRPC

/// The shape of a version 1 sealed envelope, checked by the handler itself as well as by the
/// policy engine (`sealed_envelope_field`), so that the service keeps its promise when it runs
/// without the engine.
enum EnvelopeShape {
    static func problem(with envelope: RPCSealedEnvelope) -> String? {
        guard envelope.version == 1 else { return "version \(envelope.version) is not a known sealing scheme" }
        guard !envelope.recipientKeyId.isEmpty, envelope.recipientKeyId.count <= 64 else {
            return "the recipient key id must have 1 to 64 bytes"
        }
        guard envelope.ephemeralPublicKey.count == SealedBox.publicKeyBytes else {
            return "the ephemeral public key must have \(SealedBox.publicKeyBytes) bytes"
        }
        guard envelope.ciphertext.count >= SealedBox.tagBytes else {
            return "the ciphertext is shorter than its \(SealedBox.tagBytes)-byte authentication tag"
        }
        return nil
    }
}
