@testable import BastionIdentity
import BastionPolicy
import BastionStore
import Foundation
import Logging
import Testing
import BastionTestSupport

/// Session tokens against PyJWT 2.10.1: it verifies what the server issues, and forges what the
/// server must refuse (RFC 8725: `alg: none`, another algorithm, a wrong `typ`, an expired `exp`,
/// a token without its context secret).
@Suite struct SessionTokenTests {
    func withTokens(_ body: (SessionTokens, Store) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try Store(path: folder, logger: Logger(label: "test"))
        try await body(try SessionTokens(store: store), store)
        try await store.close()
    }

/// Runs `script` with python3 (PyJWT installed by Tools/setup.sh); returns stdout.
    func python(_ script: String, _ arguments: [String]) async throws -> String {
        let result = try await runProgramSeparately(
            URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script] + arguments
        )
        #expect(result.status == 0, "\(result.errors)")
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func currentKey(_ tokens: SessionTokens) -> SessionTokens.SigningKey { tokens.currentSigningKey }

    @Test func pyjwtVerifiesIssuedTokens() async throws {
        try await withTokens { tokens, _ in
            let issued = try tokens.issue(user: "alice", role: "user")
            let key = currentKey(tokens)
            let decoded = try await python("""
                import jwt, sys, json, hashlib, base64
                token, key_hex, secret = sys.argv[1], sys.argv[2], sys.argv[3]
                header = jwt.get_unverified_header(token)
                assert header == {"alg": "HS256", "typ": "at+jwt", "kid": header["kid"]}, header
                claims = jwt.decode(token, bytes.fromhex(key_hex), algorithms=["HS256"], options={"require": ["exp", "iat", "sub", "jti"]})
                ctx = base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()).rstrip(b"=").decode()
                assert claims["ctx"] == ctx, (claims, ctx)
                print(json.dumps({"sub": claims["sub"], "role": claims["role"], "kid": header["kid"], "lifetime": claims["exp"] - claims["iat"]}, sort_keys=True))
                """, [issued.token, key.secret.hexString, issued.contextSecret])
            #expect(decoded == #"{"kid": "\#(key.id)", "lifetime": 3600, "role": "user", "sub": "alice"}"#)
            #expect(try tokens.verify(token: issued.token, contextSecret: issued.contextSecret) == issued.claims)
        }
    }

    /// Tokens PyJWT signs with the server's own key but that the server must still refuse.
    @Test func forgedTokensAreRefused() async throws {
        try await withTokens { tokens, _ in
            let issued = try tokens.issue(user: "alice", role: "user")
            let key = currentKey(tokens)
            let forged = try await python("""
                import jwt, sys, json, time
                key, kid, ctx = bytes.fromhex(sys.argv[1]), sys.argv[2], sys.argv[3]
                now = int(time.time())
                claims = {"sub": "alice", "role": "admin", "ctx": ctx, "iat": now, "exp": now + 600, "jti": "f" * 32}
                out = {
                    "none": jwt.encode(claims, None, algorithm="none", headers={"typ": "at+jwt", "kid": kid}),
                    "hs512": jwt.encode(claims, key, algorithm="HS512", headers={"typ": "at+jwt", "kid": kid}),
                    "wrong_typ": jwt.encode(claims, key, algorithm="HS256", headers={"typ": "JWT", "kid": kid}),
                    "expired": jwt.encode(dict(claims, iat=now - 7200, exp=now - 3600), key, algorithm="HS256", headers={"typ": "at+jwt", "kid": kid}),
                    "other_key": jwt.encode(claims, b"k" * 32, algorithm="HS256", headers={"typ": "at+jwt", "kid": kid}),
                    "unknown_kid": jwt.encode(claims, key, algorithm="HS256", headers={"typ": "at+jwt", "kid": "00"}),
                    "good": jwt.encode(claims, key, algorithm="HS256", headers={"typ": "at+jwt", "kid": kid}),
                }
                print(json.dumps(out))
                """, [key.secret.hexString, key.id, issued.claims.ctx])
            let tokensByName = try JSONDecoder().decode([String: String].self, from: Data(forged.utf8))
            func reason(_ name: String, secret: String? = nil) -> TokenError.Reason? {
                do {
                    _ = try tokens.verify(token: tokensByName[name]!, contextSecret: secret ?? issued.contextSecret)
                    return nil
                } catch {
                    return error.reason
                }
            }
            #expect(reason("none") == .wrongAlgorithm)
            #expect(reason("hs512") == .wrongAlgorithm)
            #expect(reason("wrong_typ") == .wrongType)
            #expect(reason("expired") == .expired)
            #expect(reason("other_key") == .badSignature)
            #expect(reason("unknown_kid") == .badSignature)
            // The well-formed one passes (so the refusals above are about what they say)...
            #expect(reason("good") == nil)
            // ...but not without its context secret, nor with another one.
            #expect(throws: TokenError.self) { try tokens.verify(token: tokensByName["good"]!, contextSecret: nil) }
            #expect(reason("good", secret: "not-the-secret") == .wrongContext)
            // A changed payload breaks the signature.
            let parts = issued.token.split(separator: ".")
            let tampered = "\(parts[0]).\(Array(#"{"sub":"mallory"}"#.utf8).base64URL).\(parts[2])"
            #expect(throws: TokenError.self) { try tokens.verify(token: tampered, contextSecret: issued.contextSecret) }
        }
    }

    @Test func logoutRevocationAndRotation() async throws {
        try await withTokens { tokens, store in
            let first = try tokens.issue(user: "alice", role: "user")
            let second = try tokens.issue(user: "alice", role: "user")
            try await tokens.revoke(first.claims)
            #expect(throws: TokenError.self) { try tokens.verify(token: first.token, contextSecret: first.contextSecret) }
            #expect(try tokens.verify(token: second.token, contextSecret: second.contextSecret).sub == "alice")

            try await tokens.rotate()
            let third = try tokens.issue(user: "bob", role: "user")
            #expect(third.token.split(separator: ".")[0] != second.token.split(separator: ".")[0])
            // Older keys still verify their tokens, also after a restart.
            let reloaded = try SessionTokens(store: store)
            #expect(try reloaded.verify(token: second.token, contextSecret: second.contextSecret).sub == "alice")
            #expect(try reloaded.verify(token: third.token, contextSecret: third.contextSecret).sub == "bob")

            try await reloaded.revokeAll(for: "alice")
            #expect(throws: TokenError.self) { try reloaded.verify(token: second.token, contextSecret: second.contextSecret) }
            #expect(try reloaded.verify(token: third.token, contextSecret: third.contextSecret).sub == "bob")
        }
    }

    @Test(arguments: ["", "a.b", "a.b.c.d", "!!.e30.AA", "e30.e30.AA"])
    func malformedTokens(_ token: String) async throws {
        try await withTokens { tokens, _ in
            #expect(throws: TokenError.self) { try tokens.verify(token: token, contextSecret: "x") }
        }
    }

    @Test func base64URLRoundTripsAndRefusesNonCanonicalText() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect([UInt8](base64URL: bytes.base64URL) == bytes)
        }
        #expect([UInt8](base64URL: "AB") == nil)  // low bits set
        #expect([UInt8](base64URL: "AA==") == nil)  // padding
        #expect([UInt8](base64URL: "A") == nil)
    }
}
