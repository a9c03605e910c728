import BastionTestSupport
import BastionIdentity
import Foundation
import Testing

/// `bastion factors …` and `bastion access-code …` through the built binary against
/// `bastiond --dev` (codes from its outbox, TOTP codes computed here).
@Suite struct FactorCommandTests {
    func bastion(_ arguments: [String], folder: URL, password: String = "pa55word-kim") async throws
        -> (status: Int32, output: String)
    {
        try await runProgram(
            try DaemonTests.binaries.appendingPathComponent("bastion"),
            arguments,
            environment: ["BASTION_PASSWORD": password, "HOME": folder.path],
            in: folder
        )
    }

    /// Runs `bastion` and, once the outbox has one more message, types the code it holds.
    func bastionTypingTheSentCode(_ arguments: [String], folder: URL) async throws -> (status: Int32, output: String) {
        let outbox = folder.appendingPathComponent("data/outbox")
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: outbox.path)) ?? [])
        let process = Process()
        process.executableURL = try DaemonTests.binaries.appendingPathComponent("bastion")
        process.arguments = arguments
        process.environment = ["HOME": folder.path]
        process.currentDirectoryURL = folder
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        let (terminations, termination) = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { process in
            termination.yield(process.terminationStatus)
            termination.finish()
        }
        let collected: Task<Data, Never> = Task.detached {
            await withCheckedContinuation { continuation in
                Thread.detachNewThread { continuation.resume(returning: output.fileHandleForReading.readDataToEndOfFile()) }
            }
        }
        try process.run()
        var typed = false
        for _ in 0..<1200 where process.isRunning {
            let now = Set((try? FileManager.default.contentsOfDirectory(atPath: outbox.path)) ?? [])
            if let new = now.subtracting(before).first {
                let text = try String(contentsOf: outbox.appendingPathComponent(new), encoding: .utf8)
                try input.fileHandleForWriting.write(contentsOf: Data((ChannelFlowTests.code(in: text) ?? "") .utf8 + [10]))
                typed = true
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        try input.fileHandleForWriting.close()
        var status: Int32 = -1
        for await terminationStatus in terminations { status = terminationStatus }
        let text = String(decoding: await collected.value, as: UTF8.self)
        #expect(typed, "no code arrived in the outbox: \(text)")
        return (status, text)
    }

    func newestCode(in folder: URL) throws -> String {
        let outbox = folder.appendingPathComponent("data/outbox")
        let newest = try FileManager.default.contentsOfDirectory(atPath: outbox.path).sorted().last!
        return ChannelFlowTests.code(in: try String(contentsOf: outbox.appendingPathComponent(newest), encoding: .utf8))
            ?? ""
    }

    static func value(_ key: String, in output: String) -> String? {
        // A prompt ("Code: ") ends without a line break when stdin is not a terminal.
        output.split(separator: "\n").map { $0.hasPrefix("Code: ") ? $0.dropFirst(6) : $0 }
            .first { $0.hasPrefix(key + " ") }.map { String($0.dropFirst(key.count + 1)) }
    }

    @Test func enrollProveAndRemoveFactorsFromTheCommandLine() async throws {
        let (process, port, folder) = try await DaemonTests.startDaemon(["--support-user", "sue"])
        defer {
            process.terminate()
            try? FileManager.default.removeItem(at: folder)
        }
        let common = ["--user", "kim", "--port", String(port)]
        #expect(try await bastion(["register"] + common, folder: folder).status == 0)
        #expect(try await bastion(["login"] + common, folder: folder).status == 0)
        let none = try await bastion(["factors", "list"] + common, folder: folder)
        #expect(none.status == 0 && none.output.contains("kim has no second factor"), "\(none.output)")

        // A security question first (no factor needed yet); it proves the later changes.
        let question = try await bastion(
            ["factors", "add-question", "--question", "First pet?", "--answer", "Rex the dog"] + common,
            folder: folder
        )
        #expect(question.status == 0, "\(question.output)")
        let questionID = try #require(question.output.split(separator: " ").dropFirst().first.map(String.init))
        let byAnswer = ["--second-factor", questionID, "--second-factor-code", " rex THE dog"]

        // A channel: the code from the outbox confirms it.
        let channel = try await bastion(
            ["factors", "enroll-channel", "--channel", "email", "--address", "kim@example.com"] + common + byAnswer,
            folder: folder
        )
        #expect(channel.status == 0, "\(channel.output)")
        let channelID = try #require(Self.value("factor", in: channel.output))
        let wrong = try await bastion(
            ["factors", "confirm-channel", "--factor", channelID, "--code", "B-00000000"] + common,
            folder: folder
        )
        #expect(wrong.status != 0 && wrong.output.contains("wrong code"), "\(wrong.output)")
        let resent = try await bastion(["factors", "resend", "--factor", channelID] + common, folder: folder)
        #expect(resent.output.contains("the same code was sent again"), "\(resent.output)")
        let confirmed = try await bastion(
            ["factors", "confirm-channel", "--factor", channelID, "--code", try newestCode(in: folder)] + common,
            folder: folder
        )
        #expect(confirmed.status == 0, "\(confirmed.output)")

        // TOTP, proven with the channel: the command sends the code and asks for it.
        let totp = try await bastionTypingTheSentCode(
            ["factors", "enroll-totp", "--label", "app", "--second-factor", channelID] + common,
            folder: folder
        )
        #expect(totp.status == 0, "\(totp.output)")
        #expect(totp.output.contains("was sent through email to k***@example.com"), "\(totp.output)")
        let totpID = try #require(Self.value("factor", in: totp.output))
        let secretText = try #require(Self.value("secret", in: totp.output))
        let secret = try #require(Base32.decode(secretText))
        let code = TOTP(secret: secret).code(at: Int64(Date().timeIntervalSince1970))
        let totpConfirmed = try await bastion(
            ["factors", "confirm-totp", "--factor", totpID, "--code", code] + common,
            folder: folder
        )
        #expect(totpConfirmed.status == 0, "\(totpConfirmed.output)")

        // Recovery codes, a wrong answer refused, then a recovery code removes the authenticator.
        let refused = try await bastion(
            ["factors", "recovery-codes", "--second-factor", questionID, "--second-factor-code", "Fluffy"] + common,
            folder: folder
        )
        #expect(refused.status != 0 && refused.output.contains("wrong answer"), "\(refused.output)")
        let codes = try await bastion(["factors", "recovery-codes"] + common + byAnswer, folder: folder)
        #expect(codes.status == 0, "\(codes.output)")
        let recoveryCodes = codes.output.split(separator: "\n").filter { RecoveryCodes.normalize(String($0)) != nil }
        #expect(recoveryCodes.count == 10)
        let removed = try await bastion(
            ["factors", "remove", "--factor", totpID, "--second-factor-code", String(recoveryCodes[0])] + common,
            folder: folder
        )
        #expect(removed.status == 0, "\(removed.output)")
        let listed = try await bastion(["factors", "list"] + common, folder: folder)
        #expect(listed.output.contains("\"First pet?\""), "\(listed.output)")
        #expect(listed.output.contains("k***@example.com"))
        #expect(listed.output.contains("recovery  9 left, last used"))
        #expect(!listed.output.contains(totpID))

        // Access codes: only for support.
        let notSupport = try await bastion(["access-code", "issue", "--scope", "consent"] + common, folder: folder)
        #expect(notSupport.status != 0 && notSupport.output.contains("support role"), "\(notSupport.output)")
        let sue = ["--user", "sue", "--port", String(port)]
        #expect(try await bastion(["register"] + sue, folder: folder, password: "pa55word-sue").status == 0)
        #expect(try await bastion(["login"] + sue, folder: folder, password: "pa55word-sue").status == 0)
        let issued = try await bastion(
            ["access-code", "issue", "--scope", "consent", "--digits", "6"] + sue,
            folder: folder
        )
        #expect(issued.status == 0, "\(issued.output)")
        let accessCode = try #require(issued.output.split(separator: "\n").first { $0.count == 6 && $0.allSatisfy(\.isNumber) })
        let redeemed = try await bastion(
            ["access-code", "redeem", "--code", String(accessCode), "--port", String(port)],
            folder: folder
        )
        #expect(redeemed.status == 0 && redeemed.output.contains("scope consent"), "\(redeemed.output)")
        let again = try await bastion(
            ["access-code", "redeem", "--code", String(accessCode), "--port", String(port)],
            folder: folder
        )
        #expect(again.status != 0 && again.output.contains("unknown, used or expired"), "\(again.output)")
    }
}
