import ArgumentParser
import BastionIdentity
import BastionRPC
import BastionTransport
import Foundation

/// `bastion factors …`: a user's second factors, with the profile's certificate and session.
struct FactorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "factors",
        abstract: "Enroll, list and remove second factors: TOTP, code channels, security questions, recovery codes.",
        discussion: """
            Every subcommand uses the profile of --user (bastion register, bastion login). Once a \
            user has a factor, adding or removing one needs a second factor: the command asks for \
            a code (or takes --second-factor and --second-factor-code); for a channel factor it \
            sends the code first, then asks for it.
            """,
        subcommands: [
            ListFactorsCommand.self, EnrollTotpCommand.self, ConfirmTotpCommand.self, EnrollChannelCommand.self,
            ConfirmChannelCommand.self, ResendCodeCommand.self, AddQuestionCommand.self, RemoveFactorCommand.self,
            RecoveryCodesCommand.self,
        ]
    )
}

/// How a command proves a second factor when the server asks for one.
struct SecondFactorOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The factor to prove when the server asks for one (an id from `bastion factors list`). "
                + "(default: the only one, else by the code's shape: TOTP or recovery code)"
        )
    )
    var secondFactor: String?

    @Option(
        help: ArgumentHelp(
            "The code (or answer) of that factor. (default: the BASTION_SECOND_FACTOR_CODE variable, else a prompt; "
                + "channel codes are always asked for after they were sent)"
        )
    )
    var secondFactorCode: String?

    func prover(_ client: TwoFactorClient) -> TwoFactorClient.Prover {
        let chosen = secondFactor
        let given = secondFactorCode ?? ProcessInfo.processInfo.environment["BASTION_SECOND_FACTOR_CODE"]
        return { challenge in
            let factor: SecondFactorChallenge.Factor
            if let chosen {
                guard let match = challenge.factors.first(where: { $0.id == chosen }) else {
                    throw CleanFailure(
                        "\(chosen) is not a factor that can answer; choose one of "
                            + challenge.factors.map { "\($0.id) (\($0.kind))" }.joined(separator: ", ")
                    )
                }
                factor = match
            } else if challenge.factors.count == 1 {
                factor = challenge.factors[0]
            } else if let given, !given.isEmpty, let guess = challenge.factor(forCode: given) {
                factor = guess
            } else {
                throw CleanFailure(
                    "a second factor is needed; choose one with --second-factor: "
                        + challenge.factors.map { "\($0.id) (\($0.kind))" }.joined(separator: ", ")
                )
            }
            let details = challenge.initiated?.factors.first { $0.factorId == factor.id }
            switch factor.kind {
            case "channel":
                guard let started = challenge.initiated else { throw CleanFailure("no challenge was started") }
                let sent = try await client.sendChallengeCode(challengeID: started.challengeId, factorID: factor.id)
                FileHandle.standardError.write(
                    Data(
                        "a code (\(sent.codePrefix)…) was sent through \(details?.channel ?? "the channel") to \(details?.addressHint ?? factor.id)\n"
                            .utf8
                    )
                )
                return (factor.id, Self.ask("Code: "))
            case "passkey":
                throw CleanFailure(
                    "\(factor.id) is a passkey, which needs an authenticator: use a browser or the Python client (bastion_client.passkeys), or choose another factor with --second-factor"
                )
            case "question":
                if let given, !given.isEmpty { return (factor.id, given) }
                return (factor.id, Self.ask("\(details?.question ?? "Security question"): ", hidden: false))
            default:
                if let given, !given.isEmpty { return (factor.id, given) }
                return (factor.id, Self.ask("Second factor (\(factor.kind)) code: "))
            }
        }
    }

    static func ask(_ prompt: String, hidden: Bool = true) -> String {
        if hidden, let typed = try? AccountOptions.prompt(prompt) { return String(decoding: typed, as: UTF8.self) }
        FileHandle.standardError.write(Data(prompt.utf8))
        return readLine(strippingNewline: true) ?? ""
    }
}

/// What every `factors` subcommand has: the profile, the connection (with the profile's
/// certificate) and the stored session.
struct FactorContext {
    var session: IdentityClient.Session
    var connection: BastionClientConnection
    var client: TwoFactorClient

    static func open(_ account: AccountOptions, _ options: ConnectionOptions) async throws -> FactorContext {
        let session = try account.loadSession()
        let connection = try await options.withClientCertificate(of: account).connect()
        return FactorContext(session: session, connection: connection, client: TwoFactorClient(transport: connection))
    }
}

extension Bastion_Auth_V1_Factor {
    /// One line for `factors list`.
    var line: String {
        let created = Date(timeIntervalSince1970: TimeInterval(createdUnixSeconds))
        switch kind {
        case .totp: return "\(factorId)  totp      \(label)  (\(digits) digits, \(algorithm)), since \(created)"
        case .recoveryCodes:
            var text = "\(factorId)  recovery  \(recoveryCodesLeft) left"
            if recoveryCodeLastUsedUnixSeconds > 0 {
                text += ", last used \(Date(timeIntervalSince1970: TimeInterval(recoveryCodeLastUsedUnixSeconds)))"
            }
            return text
        case .codeChannel: return "\(factorId)  \(channel.padding(toLength: 8, withPad: " ", startingAt: 0))  \(label)  \(addressHint)"
        case .securityQuestion: return "\(factorId)  question  \(label)  \"\(question)\""
        case .passkey:
            let algorithm = passkeyAlgorithm == -8 ? "EdDSA" : "ES256"
            let warning = passkeyCounterRegressed ? "; its counter went backwards (cloned?): remove it" : ""
            return "\(factorId)  passkey   \(label)  (\(algorithm), counter \(passkeySignCount)\(warning)), since \(created)"
        default: return "\(factorId)  \(kind)"
        }
    }
}

struct ListFactorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the user's factors.")

    @OptionGroup var account: AccountOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let context = try await FactorContext.open(account, connection)
        let factors = try await context.client.listFactors(context.session)
        await context.connection.close()
        if factors.isEmpty { print("\(account.user) has no second factor") }
        for factor in factors { print(factor.line) }
    }
}

struct EnrollTotpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll-totp",
        abstract: "Start enrolling a TOTP authenticator; prints the secret and otpauth:// URI once.",
        discussion: "Add it to the authenticator app, then run `bastion factors confirm-totp` with its first code."
    )

    @OptionGroup var account: AccountOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var proof: SecondFactorOptions

    @Option(help: "A name for it, e.g. phone.")
    var label = ""

    @Option(help: "sha1, sha256 or sha512.")
    var algorithm = "sha1"

    @Option(help: "6, 7 or 8.")
    var digits: UInt32 = 6

    func run() async throws {
        let algorithm: Bastion_Auth_V1_TotpAlgorithm
        switch self.algorithm.lowercased() {
        case "sha1": algorithm = .sha1
        case "sha256": algorithm = .sha256
        case "sha512": algorithm = .sha512
        default: throw ValidationError("--algorithm: sha1, sha256 or sha512")
        }
        let context = try await FactorContext.open(account, connection)
        let enrollment = try await context.client.enrollTotp(
            context.session,
            label: label,
            algorithm: algorithm,
            digits: digits,
            prove: proof.prover(context.client)
        )
        await context.connection.close()
        print("factor \(enrollment.factorId)")
        print("secret \(enrollment.secretBase32)")
        print(enrollment.otpauthUri)
        print(
            "confirm before \(Date(timeIntervalSince1970: TimeInterval(enrollment.confirmBeforeUnixSeconds))): "
                + "bastion factors confirm-totp --user \(account.user) --factor \(enrollment.factorId) --code <code>"
        )
    }
}

struct ConfirmTotpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "confirm-totp",
        abstract: "Confirm a TOTP enrollment with the authenticator's current code."
    )

    @OptionGroup var account: AccountOptions
    @OptionGroup var connection: ConnectionOptions

    @Option(help: "The factor id enroll-totp printed.")
    var factor: String

    @Option(help: "The authenticator's current code.")
    var code: String

    func run() async throws {
        let context = try await FactorContext.open(account, connection)
        let confirmed = try await context.client.confirmTotp(context.session, factorID: factor, code: code)
        await context.connection.close()
        print("confirmed \(confirmed.line)")
    }
}

struct EnrollChannelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll-channel",
        abstract: "Enroll an address on one of the server's code channels (sms, email, post, video, …).",
        discussion: "The server sends a code to the address; confirm with `bastion factors confirm-channel`."
    )

    @OptionGroup var account: AccountOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var proof: SecondFactorOptions

    @Option(help: "The channel's name, as the server is configured.")
    var channel: String

    @Option(help: "The phone number, mail or postal address, … the channel delivers to.")
    var address: String

    @Option(help: "A name for it.")
    var label = ""

    func run() async throws {
        let context = try await FactorContext.open(account, connection)
        let enrollment = try await context.client.enrollChannel(
            context.session,
            channel: channel,
            address: address,
            label: label,
            prove: proof.prover(context.client)
        )
        await context.connection.close()
        print("factor \(enrollment.factorId)")
        print(
            "a code (\(enrollment.codePrefix)…) was sent to \(enrollment.addressHint); "
                + "bastion factors confirm-channel --user \(account.user) --factor \(enrollment.factorId) --code <code>"
        )
    }
}

struct ConfirmChannelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "confirm-channel",
        abstract: "Confirm a channel enrollment with the code that was sent."
    )

    @OptionGroup var account: AccountOptions
    @OptionGroup var connection: ConnectionOptions

    @Option(help: "The factor id enroll-channel printed.")
    var factor: String

    @Option(help: "The code, with or without its prefix.")
    var code: String

    func run() async throws {
        let context = try await FactorContext.open(account, connection)
        let confirmed = try await context.client.confirmChannel(context.session, factorID: factor, code: code)
        await context.connection.close()
        print("confirmed \(confirmed.line)")
    }
}

struct ResendCodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resend",
        abstract: "Send a pending channel enrollment's code again (the same code for a while, then a new one)."
    )

    @OptionGroup var account: AccountOptions
    @OptionGroup var connection: ConnectionOptions

    @Option(help: "The factor id enroll-channel printed.")
    var factor: String

    func run() async throws {
        let context = try await FactorContext.open(account, connection)
        let sent = try await context.client.resendEnrollmentCode(context.session, factorID: factor)
        await context.connection.close()
        print(sent.newCode ? "a new code was sent" : "the same code was sent again")
    }
}

struct AddQuestionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-question",
        abstract: "Add a security question.",
        discussion: "Answers are compared trimmed, case-folded and with runs of spaces made one."
    )

    @OptionGroup var account: AccountOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var proof: SecondFactorOptions

    @Option(help: "The question, as it will be asked.")
    var question: String

    @Option(help: "The answer. (default: the BASTION_ANSWER variable, else a prompt)")
    var answer: String?

    @Option(help: "A name for it.")
    var label = ""

    func run() async throws {
        let answer =
            answer ?? ProcessInfo.processInfo.environment["BASTION_ANSWER"]
            ?? SecondFactorOptions.ask("Answer: ")
        let context = try await FactorContext.open(account, connection)
        let factor = try await context.client.addSecurityQuestion(
            context.session,
            question: question,
            answer: answer,
            label: label,
            prove: proof.prover(context.client)
        )
        await context.connection.close()
        print("added \(factor.line)")
    }
}

struct RemoveFactorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a factor.")

    @OptionGroup var account: AccountOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var proof: SecondFactorOptions

    @Option(help: "The factor id (recovery-codes for the recovery codes).")
    var factor: String

    func run() async throws {
        let context = try await FactorContext.open(account, connection)
        try await context.client.removeFactor(context.session, factorID: factor, prove: proof.prover(context.client))
        await context.connection.close()
        print("removed \(factor)")
    }
}

struct RecoveryCodesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recovery-codes",
        abstract: "Make 10 new recovery codes (the old ones stop working); they are shown once."
    )

    @OptionGroup var account: AccountOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var proof: SecondFactorOptions

    func run() async throws {
        let context = try await FactorContext.open(account, connection)
        let codes = try await context.client.generateRecoveryCodes(context.session, prove: proof.prover(context.client))
        await context.connection.close()
        for code in codes { print(code) }
    }
}

/// `bastion access-code issue|redeem`.
struct AccessCodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "access-code",
        abstract: "Issue numeric access codes (support role) and redeem them for scoped tokens.",
        subcommands: [IssueAccessCodeCommand.self, RedeemAccessCodeCommand.self]
    )
}

struct IssueAccessCodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Issue an access code to read out over the phone (needs the support role)."
    )

    @OptionGroup var account: AccountOptions
    @OptionGroup var connection: ConnectionOptions

    @Option(help: "What its token will allow, e.g. consent-upload.")
    var scope: String

    @Option(help: "Whom it is for (a case number).")
    var subject = ""

    @Option(help: "6 to 10. (default: 8)")
    var digits: UInt32 = 0

    @Option(help: "Seconds it is good for, 60 to 3600. (default: 900)")
    var lifetime: UInt32 = 0

    func run() async throws {
        let context = try await FactorContext.open(account, connection)
        let issued = try await context.client.issueAccessCode(
            context.session,
            scope: scope,
            subject: subject,
            digits: digits,
            lifetimeSeconds: lifetime
        )
        await context.connection.close()
        print(issued.code)
        FileHandle.standardError.write(
            Data("good once, until \(Date(timeIntervalSince1970: TimeInterval(issued.expiresUnixSeconds)))\n".utf8)
        )
    }
}

struct RedeemAccessCodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redeem",
        abstract: "Exchange an access code for its scoped token (no account needed)."
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "The code's digits.")
    var code: String

    func run() async throws {
        let transport = try await connection.connect()
        let redeemed = try await TwoFactorClient(transport: transport).redeemAccessCode(code)
        await transport.close()
        print("token \(redeemed.token)")
        print("scope \(redeemed.scope)")
        if !redeemed.subject.isEmpty { print("subject \(redeemed.subject)") }
        print("issued by \(redeemed.issuedBy), good until \(Date(timeIntervalSince1970: TimeInterval(redeemed.expiresUnixSeconds)))")
    }
}
