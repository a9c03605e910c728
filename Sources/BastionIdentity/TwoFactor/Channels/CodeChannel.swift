/// Something that delivers a message to an address: an operator's command (``CommandChannel``)
/// or, for development, a folder of files (``OutboxChannel``).
public protocol CodeChannel: Sendable {
    /// Delivers `message` to `address`; returns once the channel has accepted it.
    func send(address: String, message: String) async throws(ChannelError)
}

/// Why a channel did not take a message.
public struct ChannelError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for the caller ("the command exited with status 3").
    public var reason: String
    /// The command and what it printed (at most 4 KiB), for the server's log only.
    public var output: String

    public init(_ reason: String, output: String = "") {
        self.reason = reason
        self.output = output
    }

    public var description: String { reason }
}

/// The channels a server can send codes through, by name ("sms", "email", "post", "video"), and
/// how codes look and live.
public struct CodeChannels: Sendable {
    public var channels: [String: any CodeChannel] = [:]
    /// The prefix a code carries when sent ("B-12345678"); typed codes are accepted with or
    /// without it.
    public var codePrefix = "B-"
    /// Digits of a channel code (6 to 10).
    public var codeDigits = 8
    /// Re-sends within this period after a code was made send the same code; later ones make a
    /// new code.
    public var retransmissionPeriod: Duration = .seconds(120)
    /// A code is refused after this (and never outlives its challenge or enrollment).
    public var codeLifetime: Duration = .seconds(600)
    /// Sends through one factor (enrollment and challenges together) within `sendWindow`.
    public var maxSendsPerFactor: UInt32 = 10
    public var sendWindow: Duration = .seconds(3600)
    /// Channel factors (confirmed or not) one user may have.
    public var maxFactorsPerUser = 10
    /// The name the messages give the service.
    public var serviceName = "Bastion"

    public init() {}

    /// Sorted names, for error messages and help.
    public var names: [String] { channels.keys.sorted() }
}
