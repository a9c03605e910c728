public import Logging
public import ServiceLifecycle

/// Deletes expired rows from expiring tables, every ``interval``, for as long as it runs.
///
/// It is a swift-service-lifecycle `Service`: add it to the server's `ServiceGroup`, and it
/// stops at graceful shutdown or when its task is cancelled. Each sweep deletes in write
/// transactions of at most ``batchSize`` rows, so other writes get their turn in between.
public struct ExpirySweeper: Service {
    /// The store to sweep.
    public let store: Store
    /// The tables to sweep.
    public let tables: [any SweepableTable]
    /// The time between sweeps.
    public let interval: Duration
    /// The most rows one write transaction deletes.
    public let batchSize: Int
    private let logger: Logger

    /// Makes a sweeper.
    ///
    /// - Parameters:
    ///   - store: The store to sweep.
    ///   - tables: The expiring tables to sweep.
    ///   - interval: The time between sweeps. Default: one minute.
    ///   - batchSize: The most rows one write transaction deletes. Default: 500.
    ///   - logger: Where the sweeper logs what it deleted (at debug) and failures (at error).
    public init(
        store: Store,
        tables: [any SweepableTable],
        interval: Duration = .seconds(60),
        batchSize: Int = 500,
        logger: Logger
    ) {
        precondition(batchSize > 0, "batchSize must be positive")
        self.store = store
        self.tables = tables
        self.interval = interval
        self.batchSize = batchSize
        self.logger = logger
    }

    /// Sweeps every table once; returns how many rows it deleted.
    @discardableResult
    public func sweep() async throws -> Int {
        var total = 0
        for table in self.tables {
            let removed = try await self.store.removeExpired(table, batchSize: self.batchSize)
            if removed > 0 {
                self.logger.debug("Removed expired rows", metadata: ["table": "\(table.name)", "count": "\(removed)"])
            }
            total += removed
        }
        return total
    }

    /// Sweeps, then waits ``interval``, until cancelled or shut down gracefully. A failed sweep
    /// is logged and tried again next time.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.sweep()
                } catch is CancellationError {
                    return
                } catch {
                    self.logger.error("Sweeping expired rows failed", metadata: ["error": "\(error)"])
                }
                do {
                    try await Task.sleep(for: self.interval)
                } catch {
                    return
                }
            }
        }
    }
}
