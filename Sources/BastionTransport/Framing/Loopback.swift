/// The one rule for "loopback", where plaintext is allowed (docs/PROTOCOL.md, section 1).
public enum Loopback {
    /// Whether `host` names this machine: `localhost`, `::1`, or an address in 127.0.0.0/8.
    public static func contains(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
