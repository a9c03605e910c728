import BastionProtobuf
import Foundation
import Testing

@testable import BastionIdentity
import BastionTestSupport

/// TOTP against RFC 6238's Appendix B and the Python `pyotp` package (2.12.0, Tools/setup.sh);
/// the replay rule; base32; the factor key's sealing; recovery codes; the challenge detail.
@Suite struct TOTPTests {
    static let keys: [TOTP.Algorithm: [UInt8]] = [
        .sha1: Array("12345678901234567890".utf8),
        .sha256: Array("12345678901234567890123456789012".utf8),
        .sha512: Array("1234567890123456789012345678901234567890123456789012345678901234".utf8),
    ]

    /// RFC 6238, Appendix B: time, then the 8-digit codes for SHA-1, SHA-256 and SHA-512.
    static let vectors: [(Int64, String, String, String)] = [
        (59, "94287082", "46119246", "90693936"),
        (1_111_111_109, "07081804", "68084774", "25091201"),
        (1_111_111_111, "14050471", "67062674", "99943326"),
        (1_234_567_890, "89005924", "91819424", "93441116"),
        (2_000_000_000, "69279037", "90698825", "38618901"),
        (20_000_000_000, "65353130", "77737706", "47863826"),
    ]

    @Test(arguments: vectors)
    func rfc6238AppendixB(vector: (Int64, String, String, String)) {
        let (time, sha1, sha256, sha512) = vector
        #expect(TOTP(secret: Self.keys[.sha1]!, algorithm: .sha1, digits: 8).code(at: time) == sha1)
        #expect(TOTP(secret: Self.keys[.sha256]!, algorithm: .sha256, digits: 8).code(at: time) == sha256)
        #expect(TOTP(secret: Self.keys[.sha512]!, algorithm: .sha512, digits: 8).code(at: time) == sha512)
    }

    @Test func windowIsOneStepEachWay() {
        let totp = TOTP(secret: Self.keys[.sha1]!, digits: 6)
        let now: Int64 = 1_700_000_015
        let step = totp.step(at: now)
        for offset: Int64 in -1...1 {
            #expect(totp.matchingStep(of: totp.code(forStep: step + offset), at: now) == step + offset)
        }
        for offset: Int64 in [-3, -2, 2, 3] where totp.code(forStep: step + offset) != totp.code(forStep: step) {
            #expect(totp.matchingStep(of: totp.code(forStep: step + offset), at: now) == nil)
        }
        #expect(totp.matchingStep(of: "", at: now) == nil)
        #expect(totp.matchingStep(of: "12345", at: now) == nil)
    }

    /// A step's code is accepted once; an earlier step's code after a later one is refused too.
    @Test func aCodeIsAcceptedOncePerStep() throws {
        let key = try FactorKey.random()
        let secret = try Random.bytes(20)
        var factor = Bastion_Auth_V1_FactorRecord {
            $0.userId = "alice"
            $0.factorId = "totp-1"
            $0.kind = .totp
            $0.confirmed = true
            $0.algorithm = .sha1
            $0.digits = 6
        }
        factor.sealedSecret = try key.seal(
            secret,
            associatedData: TwoFactorService.associatedData(user: "alice", factor: "totp-1")
        )
        let totp = TOTP(secret: secret)
        let now: Int64 = 1_700_000_000
        let step = totp.step(at: now)
        #expect(
            TwoFactorService.checkTotp(&factor, code: totp.code(forStep: step), key: key, unixSeconds: now) == .accepted
        )
        #expect(
            TwoFactorService.checkTotp(&factor, code: totp.code(forStep: step), key: key, unixSeconds: now) == .replayed
        )
        #expect(
            TwoFactorService.checkTotp(&factor, code: totp.code(forStep: step - 1), key: key, unixSeconds: now)
                == .replayed
        )
        #expect(
            TwoFactorService.checkTotp(&factor, code: totp.code(forStep: step + 1), key: key, unixSeconds: now)
                == .accepted
        )
        #expect(
            TwoFactorService.checkTotp(&factor, code: totp.code(forStep: step + 1), key: key, unixSeconds: now + 30)
                == .replayed
        )
        #expect(factor.lastAcceptedStep == step + 1)
        // Another server key, or the record moved to another user, opens nothing.
        #expect(
            TwoFactorService.checkTotp(
                &factor,
                code: totp.code(forStep: step + 2),
                key: try FactorKey.random(),
                unixSeconds: now + 60
            ) == .unreadable
        )
        var moved = factor
        moved.userId = "mallory"
        #expect(
            TwoFactorService.checkTotp(&moved, code: totp.code(forStep: step + 2), key: key, unixSeconds: now + 60)
                == .unreadable
        )
    }

    @Test func agreesWithPyotp() async throws {
        struct Case: Codable {
            var secret: String
            var algorithm: String
            var digits: Int
            var time: Int64
            var uri: String
            var code: String
        }
        var cases: [Case] = []
        for algorithm in TOTP.Algorithm.allCases {
            for digits in 6...8 {
                for _ in 0..<6 {
                    let totp = TOTP(
                        secret: try Random.bytes(algorithm.secretLength),
                        algorithm: algorithm,
                        digits: digits
                    )
                    let time = Int64.random(in: 0...4_000_000_000)
                    cases.append(
                        Case(
                            secret: Base32.encode(totp.secret),
                            algorithm: algorithm.rawValue,
                            digits: digits,
                            time: time,
                            uri: totp.uri(issuer: "Bastion Test", account: "alice.b"),
                            code: totp.code(at: time)
                        )
                    )
                }
            }
        }
        let output = try await python(
            """
            import hashlib, json, sys, pyotp
            cases = json.load(sys.stdin)
            digests = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}
            answers = []
            for case in cases:
                direct = pyotp.TOTP(case["secret"], digits=case["digits"], digest=digests[case["algorithm"]]).at(case["time"])
                parsed = pyotp.parse_uri(case["uri"])
                assert parsed.issuer == "Bastion Test" and parsed.name == "alice.b", (parsed.issuer, parsed.name)
                answers.append([direct, parsed.at(case["time"])])
            print(json.dumps(answers))
            """,
            input: try JSONEncoder().encode(cases)
        )
        let answers = try JSONDecoder().decode([[String]].self, from: Data(output.utf8))
        #expect(answers.count == cases.count)
        for (answer, expected) in zip(answers, cases) {
            #expect(
                answer == [expected.code, expected.code],
                "\(expected.algorithm) \(expected.digits) digits at \(expected.time)"
            )
        }
    }

    @Test func base32RoundTrips() throws {
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI")  // RFC 4648 §10, unpadded
        #expect(Base32.decode("mzxw6ytboi======") == Array("foobar".utf8))
        #expect(Base32.decode("MZ1") == nil)
        for count in 0..<70 {
            let bytes = try Random.bytes(count)
            #expect(Base32.decode(Base32.encode(bytes)) == bytes)
        }
    }

    @Test func uriNamesEverySetting() {
        let totp = TOTP(secret: Array("12345678901234567890".utf8), algorithm: .sha256, digits: 8)
        #expect(
            totp.uri(issuer: "Bastion", account: "alice")
                == "otpauth://totp/Bastion:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Bastion&algorithm=SHA256&digits=8&period=30"
        )
    }

    @Test func factorKeySealsAndRefusesTampering() throws {
        let key = try FactorKey.random()
        let sealed = try key.seal(Array("secret".utf8), associatedData: [1, 2, 3])
        #expect(key.unseal(sealed, associatedData: [1, 2, 3]) == Array("secret".utf8))
        #expect(key.unseal(sealed, associatedData: [1, 2, 4]) == nil)
        var flipped = sealed
        flipped[14] ^= 1
        #expect(key.unseal(flipped, associatedData: [1, 2, 3]) == nil)
        #expect(try FactorKey.random().unseal(sealed, associatedData: [1, 2, 3]) == nil)
        // Two seals of the same secret differ (fresh nonces).
        #expect(
            try key.seal(Array("secret".utf8), associatedData: []) != key.seal(Array("secret".utf8), associatedData: [])
        )
    }

    @Test func factorKeyFileIsMadeOncePrivately() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("factor-\(UUID().uuidString).key").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = try FactorKey.loadOrCreate(path: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect((attributes[.size] as? Int) == 32)
        let again = try FactorKey.loadOrCreate(path: path)
        #expect(first.sealingKey == again.sealingKey)
        #expect(first.recoveryCodeKey == again.recoveryCodeKey)
    }

    @Test func recoveryCodesHaveEightyBitsAndNormalize() throws {
        let codes = try (0..<200).map { _ in try RecoveryCodes.make() }
        #expect(Set(codes).count == codes.count)
        for code in codes {
            #expect(code.count == 19)
            #expect(code.split(separator: "-").map(\.count) == [4, 4, 4, 4])
            let normalized = try #require(RecoveryCodes.normalize(code))
            // 16 base32 characters carry 80 bits.
            #expect(Base32.decode(normalized)?.count == 10)
            #expect(RecoveryCodes.normalize(code.lowercased().replacingOccurrences(of: "-", with: " ")) == normalized)
        }
        #expect(RecoveryCodes.normalize("123456") == nil)
        #expect(RecoveryCodes.normalize("ABCD-EFGH-IJKL-MNO1") == nil)
    }

    @Test func challengeDetailRoundTrips() throws {
        let challenge = SecondFactorChallenge(
            method: "/bastion.auth.v1.Auth/DeleteAccount",
            requestSHA256: Array(repeating: 0xAB, count: 32),
            factors: [.init(id: "totp-0102", kind: "totp"), .init(id: "recovery-codes", kind: "recovery-codes")]
        )
        #expect(
            challenge.description
                == "v1 method=/bastion.auth.v1.Auth/DeleteAccount request-sha256=\(String(repeating: "ab", count: 32)) factors=totp-0102:totp,recovery-codes:recovery-codes"
        )
        #expect(SecondFactorChallenge(challenge.description) == challenge)
        #expect(SecondFactorChallenge(challenge.description + " later=field") == challenge)
        let none = SecondFactorChallenge(method: "/a.B/C", requestSHA256: Array(repeating: 0, count: 32), factors: [])
        #expect(SecondFactorChallenge(none.description)?.factors == [])
        #expect(SecondFactorChallenge("v2 method=/a.B/C") == nil)
        #expect(SecondFactorChallenge("v1 method=/a.B/C request-sha256=00 factors=") == nil)
        #expect(challenge.factor(forCode: "123456")?.id == "totp-0102")
        #expect(challenge.factor(forCode: "abcd-efgh-ijkl-mnop")?.id == "recovery-codes")
    }

/// Runs `script` with python3, `input` on stdin; returns stdout.
    func python(_ script: String, input: Data) async throws -> String {
        let result = try await runProgramSeparately(
            URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script], input: input
        )
        #expect(result.status == 0, "\(result.errors)")
        return result.output
    }
}
