import BastionProtobuf
import Foundation
import Testing

@_spi(Fuzzing) @testable import BastionIdentity

/// Channel codes (prefix, re-send and rotation, expiry), the channel command run with a real
/// script that records what it was given, the development outbox, security answers (Argon2id
/// checked against Python's argon2-cffi) and access codes.
@Suite struct ChannelCodeTests {
    let key = try! FactorKey.random()

    // MARK: Codes

    @Test(arguments: [
        ("B-12345678", "12345678"), ("12345678", "12345678"), ("b-1234 5678", "12345678"),
        (" B-1234-5678 ", "12345678"), ("1234-5678", "12345678"), ("B12345678", "12345678"),
    ])
    func codesAreAcceptedWithOrWithoutPrefix(typed: String, digits: String) {
        #expect(ChannelCodes.normalize(typed, prefix: "B-", digits: 8) == digits)
    }

    @Test(arguments: ["B-1234567", "B-123456789", "A-12345678", "1234567x", "", "B-", "１２３４５６７８"])
    func malformedCodesAreRefused(typed: String) {
        #expect(ChannelCodes.normalize(typed, prefix: "B-", digits: 8) == nil)
    }

    @Test func codesAreDigitsDerivedFromTheSeedUnderTheKey() throws {
        let seed = try Random.bytes(16)
        let code = ChannelCodes.code(seed: seed, digits: 8, key: key)
        #expect(code.count == 8 && code.allSatisfy(\.isNumber))
        #expect(ChannelCodes.code(seed: seed, digits: 8, key: key) == code)
        // Another server's key makes another code from the same seed (only the key holder can
        // derive it).
        let other = try FactorKey.random()
        let codes = try (0..<20).map { _ in try Random.bytes(16) }
        #expect(
            codes.map { ChannelCodes.code(seed: $0, digits: 8, key: key) }
                != codes.map { ChannelCodes.code(seed: $0, digits: 8, key: other) }
        )
        // Leading zeros are kept.
        let short = (0..<200).map { _ in ChannelCodes.code(seed: (try? Random.bytes(16)) ?? [], digits: 6, key: key) }
        #expect(short.allSatisfy { $0.count == 6 })
    }

    @Test func resendKeepsTheCodeWithinThePeriodThenRotates() throws {
        var settings = CodeChannels()
        settings.retransmissionPeriod = .seconds(120)
        settings.codeLifetime = .seconds(600)
        let start: Int64 = 1_700_000_000_000
        let cap = start + 300_000
        let first = try ChannelCodes.next(
            after: nil, factor: "channel-1", purpose: "c1", now: start, cap: cap, settings: settings, key: key
        )
        #expect(first.isNew && first.record.generation == 1 && first.record.sends == 1)
        #expect(first.record.expiresUnixMillis == cap)  // the challenge ends before the code would
        #expect(first.record.sameCodeUntilUnixMillis == start + 120_000)
        let again = try ChannelCodes.next(
            after: first.record, factor: "channel-1", purpose: "c1", now: start + 119_999, cap: cap,
            settings: settings, key: key
        )
        #expect(!again.isNew && again.code == first.code && again.record.seed == first.record.seed)
        #expect(again.record.generation == 1 && again.record.sends == 2)
        let rotated = try ChannelCodes.next(
            after: again.record, factor: "channel-1", purpose: "c1", now: start + 120_000, cap: cap,
            settings: settings, key: key
        )
        #expect(rotated.isNew && rotated.record.generation == 2 && rotated.record.seed != first.record.seed)
        // The old code no longer checks; the new one does, with its prefix or without.
        let check = { (typed: String, record: Bastion_Auth_V1_ChannelCodeRecord, now: Int64) in
            ChannelCodes.check(typed, against: record, purpose: "c1", now: now, settings: settings, key: key)
        }
        if first.code != rotated.code { #expect(check(first.code, rotated.record, start + 120_001) == .wrong) }
        #expect(check("B-" + rotated.code, rotated.record, start + 120_001) == .accepted)
        #expect(check(rotated.code, rotated.record, start + 120_001) == .accepted)
        #expect(check(rotated.code, rotated.record, cap) == .expired)
        #expect(check(rotated.code, Bastion_Auth_V1_ChannelCodeRecord(), start) == .notSent)
        // A code is bound to its challenge: the same digits for another purpose do not check.
        #expect(
            ChannelCodes.check(rotated.code, against: rotated.record, purpose: "c2", now: start, settings: settings, key: key)
                == .wrong
        )
    }

    @Test func messagesNameOnlyPlainOperations() {
        let settings = CodeChannels()
        let plain = ChannelCodes.message(
            code: "01234567",
            for: "/bastion.auth.v1.Auth/DeleteAccount",
            settings: settings,
            lifetime: .seconds(300)
        )
        #expect(
            plain
                == "Bastion code: B-01234567\nFor: /bastion.auth.v1.Auth/DeleteAccount\nIt expires in 5 minutes. If you did not ask for it, ignore this message.\n"
        )
        for smuggled in ["/a.B/C\nCall +1 555 to confirm", "/a.B/\u{202E}C", String(repeating: "/a", count: 100), ""] {
            #expect(ChannelCodes.displayable(smuggled) == "an operation")
        }
    }

    @Test func addressesAreCheckedAndHinted() {
        #expect(ChannelCodes.problem(with: "+49 170 1234567") == nil)
        #expect(ChannelCodes.problem(with: "Erika Mustermann\nHauptstr. 1\n12345 Berlin") == nil)
        #expect(ChannelCodes.problem(with: "") != nil)
        #expect(ChannelCodes.problem(with: "-rf") != nil)
        #expect(ChannelCodes.problem(with: "a\u{0}b") != nil)
        #expect(ChannelCodes.problem(with: " x") != nil)
        #expect(ChannelCodes.problem(with: String(repeating: "x", count: 257)) != nil)
        #expect(ChannelCodes.hint(for: "alice@example.com") == "a***@example.com")
        #expect(ChannelCodes.hint(for: "+491701234567") == "+49***67")
        #expect(!ChannelCodes.hint(for: "+491701234567").contains("1234"))
    }

    // MARK: Channels

    /// A script that writes its arguments (NUL-separated) and its standard input to files.
    static func recordingScript(in folder: URL, exitStatus: Int = 0, sleep: Int = 0) throws -> String {
        let path = folder.appendingPathComponent("send-\(exitStatus)-\(sleep).sh").path
        let script = """
            #!/bin/sh
            printf '%s\\0' "$@" > "\(folder.path)/argv"
            cat > "\(folder.path)/stdin"
            echo "delivery report: status \(exitStatus)" >&2
            [ \(sleep) -eq 0 ] || sleep \(sleep)
            exit \(exitStatus)

            """
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
        return path
    }

    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("channel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func commandGetsExactlyTheAddressAndTheMessage() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let channel = CommandChannel(executable: try Self.recordingScript(in: folder))
        // Nothing in the address reaches a shell.
        let address = "+49 170 $(touch pwned); echo `id` 'x' \"y\" | *"
        let message = "Bastion code: B-01234567\nFor: /bastion.auth.v1.Auth/DeleteAccount\n\u{e9}\n"
        try await channel.send(address: address, message: message)
        let argv = try Data(contentsOf: folder.appendingPathComponent("argv"))
        #expect(argv == Data(address.utf8) + Data([0]))
        #expect(try Data(contentsOf: folder.appendingPathComponent("stdin")) == Data(message.utf8))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("pwned").path))
        #expect(!FileManager.default.fileExists(atPath: "pwned"))
    }

    @Test func aFailingCommandSaysHowAndKeepsItsOutputForTheLog() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let channel = CommandChannel(executable: try Self.recordingScript(in: folder, exitStatus: 3))
        do {
            try await channel.send(address: "+1", message: "m")
            Issue.record("a failing command must throw")
        } catch {
            #expect(error.reason == "the command exited with status 3")
            #expect(error.output.contains("delivery report: status 3"))
        }
        let missing = CommandChannel(executable: folder.appendingPathComponent("absent").path)
        await #expect(throws: ChannelError.self) { try await missing.send(address: "+1", message: "m") }
    }

    @Test func aCommandPastItsTimeoutIsKilled() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let channel = CommandChannel(
            executable: try Self.recordingScript(in: folder, sleep: 600),
            timeout: .seconds(1)
        )
        do {
            try await channel.send(address: "+1", message: "m")
            Issue.record("a hanging command must throw")
        } catch {
            #expect(error.reason.contains("did not finish"))
        }
    }

    /// The command gets its three descriptors and nothing else the server has open (sockets, the
    /// store), even what was opened without close-on-exec.
    @Test func commandsInheritNoOtherDescriptor() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let descriptor = open("/dev/null", O_RDONLY)
        #expect(descriptor > 2)
        defer { close(descriptor) }
        let script = folder.appendingPathComponent("descriptors.sh")
        try """
            #!/bin/sh
            cat > /dev/null
            if [ -e /proc/$$/fd/\(descriptor) ]; then echo inherited; else echo closed; fi > '\(folder.path)/result'

            """.write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: script.path)
        try await CommandChannel(executable: script.path).send(address: "+1", message: "m")
        #expect(try String(contentsOf: folder.appendingPathComponent("result"), encoding: .utf8) == "closed\n")
    }

    @Test func outboxWritesOneFilePerMessage() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outbox = OutboxChannel(folder: folder.appendingPathComponent("outbox").path, name: "sms")
        try await outbox.send(address: "+1 555", message: "first\n")
        try await outbox.send(address: "+1 555", message: "second\n")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("outbox").path)
            .sorted()
        #expect(files.count == 2 && files.allSatisfy { $0.hasSuffix(".txt") && $0.contains("-sms-") })
        let texts = try files.map {
            try String(contentsOf: folder.appendingPathComponent("outbox/\($0)"), encoding: .utf8)
        }
        #expect(Set(texts) == ["To: +1 555\nChannel: sms\n\nfirst\n", "To: +1 555\nChannel: sms\n\nsecond\n"])
    }

    // MARK: Security questions

    @Test(arguments: [
        ("  Rex  the DOG ", "rex the dog"), ("rex\tthe\ndog", "rex the dog"), ("ＲＥＸ", "rex"),
        ("Straße", "strasse"),
        // A combining mark after a newline stays after the one space (it once made the answer
        // end in a Character led by white space, which the fuzz invariant caught).
        ("a\n\u{305}", "a \u{305}"), ("6\n\u{733}", "6 \u{733}"),
    ])
    func answersAreNormalized(answer: String, normalized: String) {
        #expect(SecurityQuestions.normalize(answer) == normalized)
    }

    @Test func argon2idAgreesWithArgon2Cffi() async throws {
        struct Case: Codable {
            var password: String
            var salt: String
            var iterations: UInt32
            var memoryKiB: UInt32
            var hash: String
        }
        var cases: [Case] = []
        for (iterations, memoryKiB) in [(1, 8), (2, 64), (3, 1024), (3, 64 * 1024)] as [(UInt32, UInt32)] {
            let password = try Random.bytes(Int.random(in: 0...64))
            let salt = try Random.bytes(16)
            let hash = try SecurityQuestions.argon2id(
                password: password,
                salt: salt,
                parameters: .init(iterations: iterations, memoryKiB: memoryKiB)
            )
            cases.append(
                Case(
                    password: password.hex,
                    salt: salt.hex,
                    iterations: iterations,
                    memoryKiB: memoryKiB,
                    hash: hash.hex
                )
            )
        }
        let output = try await TOTPTests().python(
            """
            import json, sys
            from argon2.low_level import Type, hash_secret_raw
            answers = []
            for case in json.load(sys.stdin):
                answers.append(hash_secret_raw(bytes.fromhex(case["password"]), bytes.fromhex(case["salt"]),
                    time_cost=case["iterations"], memory_cost=case["memoryKiB"], parallelism=1, hash_len=32,
                    type=Type.ID, version=19).hex())
            print(json.dumps(answers))
            """,
            input: try JSONEncoder().encode(cases)
        )
        let answers = try JSONDecoder().decode([String].self, from: Data(output.utf8))
        #expect(answers == cases.map(\.hash), "needs argon2-cffi (Tools/setup.sh)")
    }

    @Test func answerHashesDependOnSaltKeyAndNormalizedAnswer() async throws {
        let parameters = SecurityQuestions.Parameters(iterations: 1, memoryKiB: 8)
        let salt = try Random.bytes(16)
        let hash = try await SecurityQuestions.hash(answer: "Rex the dog", salt: salt, parameters: parameters, key: key)
        #expect(
            try await SecurityQuestions.hash(answer: " rex  THE dog", salt: salt, parameters: parameters, key: key)
                == hash
        )
        #expect(
            try await SecurityQuestions.hash(answer: "Rex the cat", salt: salt, parameters: parameters, key: key)
                != hash
        )
        #expect(
            try await SecurityQuestions.hash(
                answer: "Rex the dog",
                salt: try Random.bytes(16),
                parameters: parameters,
                key: key
            ) != hash
        )
        #expect(
            try await SecurityQuestions.hash(
                answer: "Rex the dog",
                salt: salt,
                parameters: parameters,
                key: try FactorKey.random()
            ) != hash
        )
    }

    // MARK: The fuzz target's invariants

    /// What FuzzSecondFactorInput checks, on its seeds, its saved failures and odd inputs.
    @Test func fuzzTargetInvariantsHoldOnSeedsAndOddInputs() throws {
        let fuzzing = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("FuzzTesting")
        var inputs: [[UInt8]] = []
        for folder in ["Corpus/FuzzSecondFactorInput", "FailCases/FuzzSecondFactorInput"] {
            let url = fuzzing.appendingPathComponent(folder)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [] {
                inputs.append(Array(try Data(contentsOf: url.appendingPathComponent(name))))
            }
        }
        #expect(inputs.count >= 8)
        for text in [
            "", " ", "B-", "b-b-12345678", "\u{0}", "١٢٣٤٥٦٧٨", "12345678\u{301}", "ß\u{200B}ẞ", "@", "x@", "@x",
            String(repeating: "9", count: 65), String(repeating: " \t", count: 100), "v1 factors=:,a:,:b,a::b method==x",
            "v1 method=/a/b request-sha256=\(String(repeating: "AB", count: 32)) factors=",
        ] {
            inputs.append(Array(text.utf8))
        }
        for _ in 0..<500 { inputs.append((0..<Int.random(in: 0...40)).map { _ in UInt8.random(in: 0...255) }) }
        for input in inputs { SecondFactorInputs.check(String(decoding: input, as: UTF8.self)) }
    }

    // MARK: Access codes

    @Test(arguments: [6, 8, 10])
    func accessCodesAreDigitsOfTheAskedLength(digits: Int) throws {
        var seen: [Int] = Array(repeating: 0, count: 10)
        for _ in 0..<200 {
            let code = try AccessCodes.make(digits: digits)
            #expect(code.count == digits && code.allSatisfy(\.isNumber))
            for character in code { seen[Int(String(character))!] += 1 }
        }
        // Every digit turns up (the chance that one of ten never does in 1200 draws is ~1e-54).
        #expect(seen.allSatisfy { $0 > 0 })
    }

    @Test func accessCodeInputAndScopesAreChecked() {
        #expect(AccessCodes.normalize("1234 5678") == "12345678")
        #expect(AccessCodes.normalize("123-456") == "123456")
        #expect(AccessCodes.normalize("12345") == nil)
        #expect(AccessCodes.normalize("12345678901") == nil)
        #expect(AccessCodes.normalize("1234567a") == nil)
        #expect(AccessCodes.isValidScope("consent-upload"))
        #expect(AccessCodes.isValidScope("case:42.v1_x"))
        #expect(!AccessCodes.isValidScope(""))
        #expect(!AccessCodes.isValidScope("Consent"))
        #expect(!AccessCodes.isValidScope(String(repeating: "a", count: 65)))
    }
}

extension Array where Element == UInt8 {
    fileprivate var hex: String { map { String(format: "%02x", $0) }.joined() }
}

extension ChannelCodeTests {
    /// Sends beyond a channel's concurrency limit are refused while the others run.
    @Test func commandsInFlightAreBounded() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // The script waits until the test removes its gate file.
        let gate = folder.appendingPathComponent("gate")
        _ = FileManager.default.createFile(atPath: gate.path, contents: Data())
        let script = folder.appendingPathComponent("wait.sh")
        try "#!/bin/sh\ncat > /dev/null\ntouch '\(folder.path)/started-'$$\nwhile [ -e '\(gate.path)' ]; do sleep 0.05; done\n"
            .write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: script.path)
        let channel = CommandChannel(executable: script.path, timeout: .seconds(600), maxConcurrent: 2)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<2 { group.addTask { try await channel.send(address: "+1", message: "m") } }
            // Once both commands run, a third send is refused at once.
            for _ in 0..<6000 {
                let started = try FileManager.default.contentsOfDirectory(atPath: folder.path)
                    .filter { $0.hasPrefix("started-") }
                if started.count == 2 { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            let refused = await #expect(throws: ChannelError.self) {
                try await channel.send(address: "+1", message: "m")
            }
            #expect(refused?.reason == "2 messages are being sent already; try again shortly")
            try FileManager.default.removeItem(at: gate)
            try await group.waitForAll()
        }
        // Once they ended, sends go through again.
        try await channel.send(address: "+1", message: "m")
    }
}
