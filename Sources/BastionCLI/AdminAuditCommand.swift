import ArgumentParser
import BastionAdmin
import BastionProtobuf
import BastionRPC

/// `bastion audit`: the audit log, through a running server's admin service.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check and read a running server's audit log (through its admin service).",
        subcommands: [AuditVerifyCommand.self, AuditShowCommand.self]
    )

    @OptionGroup var connection: AdminConnectionOptions
}

/// `bastion audit verify`: the same check as `bastion admin audit-verify`.
struct AuditVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the audit log's hash chain; name the first broken entry. Exit status 1 when it is broken."
    )

    @ParentCommand var audit: AuditCommand

    func run() async throws {
        try await reportingAdminErrors {
            try await verifyAuditLog(audit.connection)
        }
    }
}

/// `bastion audit show`: the audit log's entries, oldest first.
struct AuditShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "List audit log entries: sequence, time, method, status, caller."
    )

    @ParentCommand var audit: AuditCommand

    @Option(help: "The first entry's sequence number.")
    var from: UInt64 = 1

    @Option(help: "At most this many entries (the server caps a page at 1000).")
    var limit: UInt32 = 100

    func run() async throws {
        try await reportingAdminErrors {
            let response = try await audit.connection.withAdmin { client in
                try await client.listAuditEntries(
                    .init {
                        $0.fromSequence = from; $0.limit = limit
                    },
                    options: audit.connection.callOptions
                ).message
            }
            print(AdminTable.auditEntries(response.entries), terminator: "")
            if let next = response.nextSequence {
                print("more: bastion audit show --from \(next)")
            }
        }
    }
}
