@testable import BastionIdentity
import BastionStore
import Foundation
import Logging
import Testing

/// Findings of the session-token fuzz target (FuzzTesting, `FuzzSessionTokens`): a token signed with
/// the server's key whose claims named `ctx` twice was read with the first `ctx` by Foundation's
/// JSONDecoder and the last by other JSON parsers (PyJWT, JSONSerialization). RFC 7519 §4 allows
/// only refusing duplicates or taking the last, so such tokens are refused now.
@Suite struct TokenHardeningTests {
    func signed(_ header: String, _ claims: String, with tokens: SessionTokens) -> String {
        let input = Array(header.utf8).base64URL + "." + Array(claims.utf8).base64URL
        return input + "." + HMAC.sha256(key: tokens.currentSigningKey.secret, message: Array(input.utf8)).base64URL
    }

    /// A token service over a fresh store, the context secret its tokens are bound to, and its
    /// key's id.
    func withTokens(_ body: (SessionTokens, String, String) throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try Store(path: folder, logger: Logger(label: "test"))
        let tokens = try SessionTokens(store: store)
        try body(tokens, "context-secret", tokens.currentSigningKey.id)
        try await store.close()
    }

    @Test(arguments: [
        #"{"sub":"alice","role":"user","ctx":"CTX","iat":1700000000,"exp":4102444800,"jti":"a","ctx":"other"}"#,
        #"{"sub":"alice","role":"user","ctx":"CTX","iat":1700000000,"exp":4102444800,"jti":"a","\u0063tx":"other"}"#,
        #"{"sub":"alice","role":"user","role":"admin","ctx":"CTX","iat":1700000000,"exp":4102444800,"jti":"a"}"#,
    ])
    func claimsNamedTwiceAreRefused(claims: String) async throws {
        try await withTokens { (tokens: SessionTokens, secret: String, kid: String) throws in
            let header = #"{"alg":"HS256","typ":"at+jwt","kid":"\#(kid)"}"#
            let body = claims.replacingOccurrences(of: "CTX", with: SessionTokens.contextHash(secret))
            // The same claims without the duplicate pass, so the refusal is about the duplicate.
            let single = body.replacingOccurrences(of: #","ctx":"other""#, with: "")
                .replacingOccurrences(of: #","\u0063tx":"other""#, with: "")
                .replacingOccurrences(of: #""role":"admin","#, with: "")
            #expect(try tokens.verify(token: signed(header, single, with: tokens), contextSecret: secret).sub == "alice")
            #expect(throws: TokenError.self) { try tokens.verify(token: signed(header, body, with: tokens), contextSecret: secret) }
            let twiceInHeader = #"{"alg":"HS256","typ":"at+jwt","kid":"\#(kid)","kid":"\#(kid)"}"#
            #expect(throws: TokenError.self) { try tokens.verify(token: signed(twiceInHeader, single, with: tokens), contextSecret: secret) }
        }
    }

    /// A header whose string holds a byte that is not UTF-8 (0x9a): JSONDecoder read it, PyJWT and
    /// JSONSerialization refuse the text (FuzzSessionTokens,
    /// `FailCases/FuzzSessionTokens/crash-header-string-not-utf8`).
    @Test func headersAndClaimsThatAreNotUTF8AreRefused() async throws {
        try await withTokens { (tokens: SessionTokens, secret: String, kid: String) throws in
            let header = Array(#"{"alg":"HS256","typ":"at+jwt","kid":"\#(kid)","x":"no"#.utf8) + [0x9a] + Array(#""}"#.utf8)
            let claims = #"{"sub":"alice","role":"user","ctx":"\#(SessionTokens.contextHash(secret))","iat":1700000000,"exp":4102444800,"jti":"a"}"#
            func signed(_ header: [UInt8], _ claims: [UInt8]) -> String {
                let input = header.base64URL + "." + claims.base64URL
                return input + "." + HMAC.sha256(key: tokens.currentSigningKey.secret, message: Array(input.utf8)).base64URL
            }
            let wellFormed = Array(#"{"alg":"HS256","typ":"at+jwt","kid":"\#(kid)","x":"no"}"#.utf8)
            #expect(try tokens.verify(token: signed(wellFormed, Array(claims.utf8)), contextSecret: secret).sub == "alice")
            let refused = #expect(throws: TokenError.self) {
                try tokens.verify(token: signed(header, Array(claims.utf8)), contextSecret: secret)
            }
            #expect(refused?.reason == .malformed)
            // A raw control character (ESC) in a string: JSONDecoder read it, strict readers
            // refuse it (`crash-header-string-with-control-characters`).
            let escape = Array(#"{"alg":"HS256","typ":"at+jwt","kid":"\#(kid)","x":"no"#.utf8) + [0x1b] + Array(#""}"#.utf8)
            #expect(throws: TokenError.self) { try tokens.verify(token: signed(escape, Array(claims.utf8)), contextSecret: secret) }
            let badClaims = Array(claims.utf8.dropLast(2)) + [0xff] + Array(#""}"#.utf8)
            #expect(throws: TokenError.self) { try tokens.verify(token: signed(wellFormed, badClaims), contextSecret: secret) }
        }
    }

    @Test func strictJSONTextAllowsEscapesAndWhiteSpaceOnly() {
        #expect(SessionTokens.isStrictJSONText(Array("{\"a\":\"\\\"\\n\\u001b\",\n\t\"b\": 1}".utf8)))
        #expect(!SessionTokens.isStrictJSONText(Array("{\"a\":\"x\ty\"}".utf8)))
        #expect(!SessionTokens.isStrictJSONText([0x7b, 0x0c, 0x7d]))
        #expect(!SessionTokens.isStrictJSONText([0x22, 0xc3, 0x22]))
        // Escapes JSON does not have (`crash-header-string-with-unknown-escape`), or a short \u.
        #expect(!SessionTokens.isStrictJSONText(Array(#"{"a":"non\e"}"#.utf8)))
        #expect(!SessionTokens.isStrictJSONText(Array(#"{"a":"\u12g4"}"#.utf8)))
        #expect(!SessionTokens.isStrictJSONText(Array(#"{"a":"\u12"}"#.utf8)))
        #expect(SessionTokens.isStrictJSONText(Array(#"{"a":"\u00E9\/\b\f\r\t"}"#.utf8)))
    }

    @Test func nestedAndEscapedNamesAreNotDuplicates() {
        #expect(!SessionTokens.namesAMemberTwice(Array(#"{"a":{"a":1},"b":["a","a"],"c":"\"a\""}"#.utf8)))
        #expect(SessionTokens.namesAMemberTwice(Array(#"{"a":1, "b":{"x":2}, "a":3}"#.utf8)))
        #expect(!SessionTokens.namesAMemberTwice(Array(#"["a","a"]"#.utf8)))
    }
}
