import BastionPolicy
import Foundation
import NIOPosix

/// The development channel (`bastiond --dev`): every message becomes one file in a folder,
/// `<unix millis>-<channel>-<random>.txt`, holding `To: <address>`, `Channel: <name>`, a blank
/// line and the message, written atomically (mode 0600). Tests and developers read codes there.
public struct OutboxChannel: CodeChannel {
    public var folder: String
    public var name: String

    public init(folder: String, name: String) {
        self.folder = folder
        self.name = name
    }

    public func send(address: String, message: String) async throws(ChannelError) {
        let folder = self.folder
        let name = self.name
        let text = "To: \(address)\nChannel: \(name)\n\n\(message)"
        let written: Result<Void, any Error>
        do {
            written = try await NIOThreadPool.singleton.runIfActive {
                Result {
                    try FileManager.default.createDirectory(
                        atPath: folder,
                        withIntermediateDirectories: true,
                        attributes: [.posixPermissions: 0o700]
                    )
                    let millis = Int64(Date().timeIntervalSince1970 * 1000)
                    let file = "\(folder)/\(millis)-\(name)-\(try Random.bytes(4).hexString).txt"
                    try Data(text.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
                    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
                }
            }
        } catch {
            written = .failure(error)
        }
        if case .failure(let error) = written {
            throw ChannelError("cannot write to the outbox \(folder): \(error.localizedDescription)")
        }
    }
}
