import ArgumentParser
import BastionAdmin
import BastionProtobuf
import BastionRPC
import Foundation

/// `bastion admin`: drives a running server's admin service (docs/OPERATIONS.md).
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract:
            "Operate a running server: list, switch off and on, and tune its methods; verify the audit log; back up.",
        discussion: """
            Talks to the server's admin socket (data/admin.sock by default; it is mode 0600, so \
            run this as the server's user), or to its TLS port with --host/--port and an operator \
            certificate (--cert, --key) whose fingerprint the server lists in \
            --operator-cert-fingerprint. Exit status: 0 done, 1 the audit log is broken, 2 the \
            server refused or failed the call, 3 the server cannot be reached.
            """,
        subcommands: [
            AdminMethodsCommand.self, AdminDisableCommand.self, AdminEnableCommand.self, AdminProofOfWorkCommand.self,
            AdminAuditVerifyCommand.self, AdminBackupCommand.self, AdminInfoCommand.self,
        ]
    )

    @OptionGroup var connection: AdminConnectionOptions
}

/// `bastion admin methods`: the method table.
struct AdminMethodsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "methods",
        abstract: "List every method with its switch, proof-of-work difficulty, counters and policy."
    )

    @ParentCommand var admin: AdminCommand

    @Option(help: "Only methods whose path starts with this, such as /bastion.echo.v1.")
    var prefix = ""

    func run() async throws {
        try await reportingAdminErrors {
            let response = try await admin.connection.withAdmin { client in
                try await client.listMethods(.init { $0.pathPrefix = prefix }, options: admin.connection.callOptions)
                    .message
            }
            print(AdminTable.methods(response.methods), terminator: "")
        }
    }
}

/// `bastion admin disable METHOD`.
struct AdminDisableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Switch a method off (only methods whose policy allows it); persists across restarts.",
        discussion: "Callers then get UNAVAILABLE. The switch is recorded in the audit log."
    )

    @ParentCommand var admin: AdminCommand

    @Argument(help: "The method, as /package.Service/Method.")
    var method: String

    func run() async throws {
        try await reportingAdminErrors {
            let status = try await admin.connection.withAdmin { client in
                try await client.setMethodEnabled(
                    .init {
                        $0.method = method; $0.enabled = false
                    },
                    options: admin.connection.callOptions
                ).message
            }
            print("\(status.path): disabled")
        }
    }
}

/// `bastion admin enable METHOD`.
struct AdminEnableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable",
        abstract: "Switch a method back on; persists across restarts."
    )

    @ParentCommand var admin: AdminCommand

    @Argument(help: "The method, as /package.Service/Method.")
    var method: String

    func run() async throws {
        try await reportingAdminErrors {
            let status = try await admin.connection.withAdmin { client in
                try await client.setMethodEnabled(
                    .init {
                        $0.method = method; $0.enabled = true
                    },
                    options: admin.connection.callOptions
                ).message
            }
            print("\(status.path): enabled")
        }
    }
}

/// `bastion admin pow METHOD BITS`.
struct AdminProofOfWorkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pow",
        abstract:
            "Set the proof-of-work difficulty (leading zero bits) of a method whose policy asks for proof of work."
    )

    @ParentCommand var admin: AdminCommand

    @Argument(help: "The method, as /package.Service/Method.")
    var method: String

    @Argument(help: "Leading zero bits, 0 to 64.")
    var bits: UInt32

    func run() async throws {
        try await reportingAdminErrors {
            let status = try await admin.connection.withAdmin { client in
                try await client.setProofOfWorkDifficulty(
                    .init {
                        $0.method = method; $0.difficulty = bits
                    },
                    options: admin.connection.callOptions
                ).message
            }
            print("\(status.path): proof of work \(status.proofOfWorkDifficulty.map { "\($0) bits" } ?? "off")")
        }
    }
}

/// `bastion admin audit-verify` (also `bastion audit verify`).
struct AdminAuditVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit-verify",
        abstract: "Check the audit log's hash chain; name the first broken entry. Exit status 1 when it is broken."
    )

    @ParentCommand var admin: AdminCommand

    func run() async throws {
        try await reportingAdminErrors {
            try await verifyAuditLog(admin.connection)
        }
    }
}

/// Asks the server to verify its audit log and reports it; throws exit status 1 if broken.
func verifyAuditLog(_ connection: AdminConnectionOptions) async throws {
    let result = try await connection.withAdmin { client in
        try await client.verifyAuditLog(.init(), options: connection.callOptions).message
    }
    if result.intact {
        let head =
            result.headSequence == 0
            ? "" : "; head: entry \(result.headSequence), sha256 \(AdminTable.hex(result.headHash))"
        print("audit log intact: \(result.entries) entries\(head)")
        return
    }
    let entry = result.firstBrokenSequence.map { "entry \($0)" } ?? "an entry"
    throw AdminCLIError(
        "audit log broken at \(entry) (after \(result.entries) entries checked): \(result.problem)",
        exitCode: 1
    )
}

/// `bastion admin backup PATH`.
struct AdminBackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Have the server copy its live store into a new folder on its machine.",
        discussion: """
            PATH is on the server's machine and must not exist or be empty; a relative PATH is \
            taken from this command's working folder, which is only right when the server runs \
            here too. The copy is compacted and consistent (docs/STORE.md has how to restore it).
            """
    )

    @ParentCommand var admin: AdminCommand

    @Argument(help: "A new folder for the copy, on the server's machine.")
    var path: String

    func run() async throws {
        try await reportingAdminErrors {
            let absolute = path.hasPrefix("/") ? path : URL(fileURLWithPath: path).standardizedFileURL.path
            let result = try await admin.connection.withAdmin { client in
                try await client.backup(.init { $0.path = absolute }, options: admin.connection.callOptions).message
            }
            print("backed up to \(result.path): \(AdminTable.bytes(result.bytes)) in \(result.durationMillis) ms")
        }
    }
}

/// `bastion admin info`.
struct AdminInfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show the server's version, start time, listeners and store."
    )

    @ParentCommand var admin: AdminCommand

    func run() async throws {
        try await reportingAdminErrors {
            let info = try await admin.connection.withAdmin { client in
                try await client.getServerInfo(.init(), options: admin.connection.callOptions).message
            }
            print(AdminTable.info(info), terminator: "")
        }
    }
}
