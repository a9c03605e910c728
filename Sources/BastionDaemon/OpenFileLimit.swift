#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// Every connection holds a file descriptor, and the common soft limit (1,024) is far below
/// `--max-connections`: past it `accept` fails and new clients wait in the kernel's queue. So
/// bastiond raises its soft limit as far as the hard limit allows, and says so when that is not
/// enough.
enum OpenFileLimit {
    /// Descriptors kept for what is not a connection: the store, the listeners, channel commands,
    /// logs.
    static let reserve = 256

    static func raise(toFit connections: Int, logger: Logger) {
        var limit = rlimit()
        guard getrlimit(resourceNoFile, &limit) == 0 else { return }
        let wanted = rlim_t(connections + reserve)
        if limit.rlim_cur < wanted {
            var raised = limit
            raised.rlim_cur = min(wanted, limit.rlim_max)
            if setrlimit(resourceNoFile, &raised) == 0 { limit = raised }
        }
        if limit.rlim_cur < wanted {
            let fits = max(Int(limit.rlim_cur) - reserve, 0)
            logger.warning(
                "the open-file limit allows only about \(fits) connections, fewer than --max-connections; raise the hard limit (ulimit -Hn, LimitNOFILE=) or lower --max-connections",
                metadata: ["limit": "\(limit.rlim_cur)", "maxConnections": "\(connections)"]
            )
        }
    }

    #if canImport(Glibc)
    private static let resourceNoFile = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resourceNoFile = RLIMIT_NOFILE
    #endif
}
