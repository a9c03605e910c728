/// Exposes the address grouping rate limits use, for tests and operator tools.
public enum AddressGroupProbe {
    /// The rate-limit key of an IP address: IPv4 whole, IPv6 by its /64 prefix.
    public static func key(_ ipAddress: String?) -> String { AddressGroup.key(for: ipAddress) }
}
