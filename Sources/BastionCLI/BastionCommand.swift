import ArgumentParser

/// `bastion`: the client, admin and key/certificate tool.
@main
struct BastionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bastion",
        abstract: "Bastion's client, admin and key tool.",
        subcommands: [
            HealthCommand.self, RegisterCommand.self, LoginCommand.self, WhoAmICommand.self, LogoutCommand.self,
            DeleteAccountCommand.self, DevCertCommand.self, BackupCommand.self, BenchCommand.self, AdminCommand.self,
            AuditCommand.self, FactorsCommand.self, AccessCodeCommand.self, QueueCommand.self,
        ]
    )
}
