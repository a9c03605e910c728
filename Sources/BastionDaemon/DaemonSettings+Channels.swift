import ArgumentParser
import BastionIdentity
import Foundation

extension DaemonSettings {
    /// The channel names `--dev` serves from the outbox when no command is given for them.
    static let developmentChannels = ["sms", "email", "post", "video"]

    /// Reads `--channel name=command` (and the file's `channels`), `--channel-timeout` and
    /// `--support-user`, and checks them: names of 1 to 32 of a-z, 0-9, '-', '_'; commands
    /// absolute paths of executable files.
    mutating func resolveChannels(_ command: BastionDaemon, _ file: File) throws {
        var channels = file.channels ?? [:]
        for entry in command.channel {
            guard let equals = entry.firstIndex(of: "=") else {
                throw ValidationError("--channel \(entry): expected <name>=<command>, e.g. sms=/usr/local/bin/send-sms")
            }
            channels[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        for (name, path) in channels {
            guard (1...32).contains(name.utf8.count),
                name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d || $0 == 0x5f })
            else {
                throw ValidationError("channel name '\(name)': 1 to 32 of a-z, 0-9, '-', '_'")
            }
            guard path.hasPrefix("/") else {
                throw ValidationError("channel \(name): the command must be an absolute path, not '\(path)'")
            }
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw ValidationError("channel \(name): \(path) is not an executable file")
            }
        }
        self.channels = channels
        channelTimeout = command.channelTimeout ?? file.channelTimeout ?? channelTimeout
        guard (1...600).contains(channelTimeout) else {
            throw ValidationError("--channel-timeout must be 1 to 600 seconds")
        }
        supportUsers = Set(command.supportUser + (file.supportUsers ?? []))
    }

    /// The second-factor service's configuration: the channels (commands, and with `--dev` the
    /// outbox for the others) and the support users.
    func twoFactorConfiguration() -> TwoFactorService.Configuration {
        var configuration = TwoFactorService.Configuration()
        if dev {
            for name in Self.developmentChannels {
                configuration.channels.channels[name] = OutboxChannel(folder: dataDir + "/outbox", name: name)
            }
        }
        for (name, path) in channels {
            configuration.channels.channels[name] = CommandChannel(executable: path, timeout: .seconds(channelTimeout))
        }
        configuration.accessCodes.supportUsers = supportUsers
        return configuration
    }
}
