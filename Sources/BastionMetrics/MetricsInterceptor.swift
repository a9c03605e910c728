public import BastionRPC
public import CoreMetrics
import Synchronization

/// Records every call through swift-metrics: calls by method and status code, their latency,
/// calls in flight, and policy denials by method, property and code.
///
/// Install it before the policy engine (`router.intercept(with:)` in that order), so that calls
/// the engine refuses are counted too. Its metrics (docs/OPERATIONS.md):
///
/// | name | kind | dimensions |
/// |---|---|---|
/// | `bastion_rpc_calls_total` | counter | `method`, `code` (`OK`, `UNAVAILABLE`, …) |
/// | `bastion_rpc_call_duration_seconds` | timer | `method` |
/// | `bastion_rpc_calls_in_flight` | meter | `method` |
/// | `bastion_rpc_denials_total` | counter | `method`, `policy` (the refusing STRIDE property), `code` |
///
/// Method names come only from the router's registered methods (calls of unknown methods never
/// reach interceptors), so the number of time series stays bounded. Metric objects are made once
/// per method and code and then reused.
public final class MetricsInterceptor: ServerInterceptor {
    public static let callsLabel = "bastion_rpc_calls_total"
    public static let durationLabel = "bastion_rpc_call_duration_seconds"
    public static let inFlightLabel = "bastion_rpc_calls_in_flight"
    public static let denialsLabel = "bastion_rpc_denials_total"

    /// One method's metrics that do not depend on how its calls end.
    private struct MethodMetrics: Sendable {
        let duration: CoreMetrics.Timer
        let inFlight: Meter
    }

    private struct OutcomeKey: Hashable {
        var path: String
        var code: Int
        var policy: String?
    }

    private let factory: any MetricsFactory
    private let methods = Mutex<[String: MethodMetrics]>([:])
    /// Call counters (`policy` nil) and denial counters, by method and code.
    private let counters = Mutex<[OutcomeKey: Counter]>([:])

    /// Records into `factory`: the one `MetricsSystem.bootstrap` installed unless told otherwise.
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    public func intercept(context: ServerContext, next: () async throws -> Void) async throws {
        let path = context.method.path
        let metrics = methodMetrics(path)
        metrics.inFlight.increment()
        let start = ContinuousClock.now
        defer {
            metrics.duration.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
            metrics.inFlight.decrement()
        }
        do {
            try await next()
            counter(OutcomeKey(path: path, code: 0)).increment()
        } catch {
            let rpcError = error as? RPCError
            let code =
                rpcError?.code.rawValue
                ?? (error is CancellationError ? RPCError.Code.cancelled.rawValue : RPCError.Code.unknown.rawValue)
            counter(OutcomeKey(path: path, code: code)).increment()
            if let policy = rpcError?.policy {
                counter(OutcomeKey(path: path, code: code, policy: policy)).increment()
            }
            throw error
        }
    }

    private func methodMetrics(_ path: String) -> MethodMetrics {
        methods.withLock { methods in
            if let existing = methods[path] { return existing }
            let made = MethodMetrics(
                duration: CoreMetrics.Timer(
                    label: Self.durationLabel,
                    dimensions: [("method", path)],
                    factory: factory
                ),
                inFlight: Meter(label: Self.inFlightLabel, dimensions: [("method", path)], factory: factory)
            )
            methods[path] = made
            return made
        }
    }

    private func counter(_ key: OutcomeKey) -> Counter {
        counters.withLock { counters in
            if let existing = counters[key] { return existing }
            var dimensions = [("method", key.path)]
            if let policy = key.policy { dimensions.append(("policy", policy)) }
            dimensions.append(("code", key.code == 0 ? "OK" : RPCError.Code(rawValue: key.code).description))
            let made = Counter(
                label: key.policy == nil ? Self.callsLabel : Self.denialsLabel,
                dimensions: dimensions,
                factory: factory
            )
            counters[key] = made
            return made
        }
    }
}

extension Duration {
    /// The whole duration in nanoseconds, saturating at `Int64.max`.
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return .max }
        return whole.addingReportingOverflow(attoseconds / 1_000_000_000).overflow
            ? .max : whole + attoseconds / 1_000_000_000
    }
}
