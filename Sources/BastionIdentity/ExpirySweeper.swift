public import BastionStore
public import Logging
public import ServiceLifecycle

/// Removes the identity service's expired rows — pending registrations and logins, failure
/// windows, revoked tokens whose tokens have expired anyway, challenges and second-factor
/// tokens — every `interval` until a graceful shutdown.
///
/// Reads never see an expired row (the store checks the expiry on every read); sweeping only
/// gives the space back, so that a flood of abandoned registrations or logins cannot grow the
/// store without bound.
public struct ExpirySweeper: Service {
    /// Every expiring table of the identity and second-factor services.
    public static let tables: [any SweepableTable] = [
        AuthService.pendingRegistrations, AuthService.pendingUserIDs, AuthService.pendingLogins,
        AuthService.loginFailures, SessionTokens.revokedTokens, TwoFactorService.challenges,
        TwoFactorService.tokens, TwoFactorService.failures,
        TwoFactorService.sends, TwoFactorService.accessCodes, TwoFactorService.accessTokens,
        TwoFactorService.passkeyChallenges,
    ]

    let store: Store
    let interval: Duration
    let logger: Logger

    public init(store: Store, interval: Duration = .seconds(60), logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch is CancellationError {
                return
            }
            do {
                try await sweep()
            } catch {
                // A failed sweep costs only space; the next one tries again.
                logger.warning("cannot remove expired identity rows", metadata: ["error": "\(error)"])
            }
        }
    }

    /// One pass over every table; returns how many rows it removed.
    @discardableResult
    public func sweep() async throws -> Int {
        var removed = 0
        for table in Self.tables {
            removed += try await store.removeExpired(table)
        }
        if removed > 0 { logger.debug("removed expired identity rows", metadata: ["rows": "\(removed)"]) }
        return removed
    }
}
