public import BastionRPC
import BastionProtobuf
import Synchronization

/// Answers whether the server serves; `draining` flips to DRAINING during shutdown.
public final class HealthService: Bastion_Health_V1_HealthService {
    private let state = Atomic<Bool>(false)
    public let version: String

    public init(version: String) {
        self.version = version
    }

    /// Marks the server as shutting down.
    public func markDraining() { state.store(true, ordering: .relaxed) }

    public func check(request: Bastion_Health_V1_CheckRequest, context: ServerContext) async throws -> Bastion_Health_V1_CheckResponse {
        Bastion_Health_V1_CheckResponse {
            $0.status = state.load(ordering: .relaxed) ? .draining : .serving
            $0.version = version
        }
    }
}
