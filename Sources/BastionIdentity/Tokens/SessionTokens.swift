import BastionPolicy
public import BastionStore
import COpenSSL
import Foundation
import Synchronization

/// Session tokens: JWTs signed with HMAC-SHA256, bound to a context secret, following RFC 8725.
///
/// A token names its user (`sub`), role, the SHA-256 of a random context secret (`ctx`), when it
/// was issued and expires (`iat`, `exp`) and its own id (`jti`). The client gets the secret beside
/// the token and presents both on every call, so a token that leaks alone (a log line, a proxy)
/// opens nothing. Verification follows RFC 8725: the algorithm is fixed here and never read from
/// the token (`alg` must say `HS256`, so `none` and every other algorithm are refused), the header's
/// `typ` must be `at+jwt`, the key is chosen by `kid` among this server's keys, which are 256 bits
/// of randomness each, and the signature is compared in constant time.
///
/// Keys live in the store (`identity.token_keys`): ``rotate()`` makes a new signing key, and old
/// keys keep verifying the tokens they signed until those expire. Logout revokes one token by its
/// `jti`; ``revokeAll(for:)`` (account deletion, "log out everywhere") refuses every token of a
/// user issued before it.
public final class SessionTokens: Sendable {
    public struct Claims: Sendable, Hashable, Codable {
        public var sub: String
        public var role: String
        /// base64url(SHA-256(context secret)).
        public var ctx: String
        public var iat: Int64
        public var exp: Int64
        public var jti: String
    }

    /// A freshly issued token and the context secret that must accompany it.
    public struct Issued: Sendable, Hashable {
        public var token: String
        public var contextSecret: String
        public var claims: Claims
    }

    public struct Configuration: Sendable {
        /// How long a token is valid.
        public var lifetime: Duration = .seconds(3600)
        /// Clock skew tolerated on `iat`.
        public var leeway: Duration = .seconds(30)
        /// The `iss` claim; empty for none.
        public var issuer = "bastion"

        public init() {}
    }

    /// The metadata keys a client sends its session in.
    public static let tokenMetadataKey = "authorization"
    public static let contextMetadataKey = "bastion-context"
    public static let type = "at+jwt"

    struct SigningKey: Sendable, Hashable, Codable {
        var id: String
        var secret: [UInt8]
        var createdMillis: Int64
    }

    static let keys = Table<String, [UInt8]>("identity.token_keys")
    static let currentKey = Table<String, String>("identity.token_current_key")
    static let revokedTokens = ExpiringTable<String, Bool>("identity.revoked_tokens")
    static let revokedBefore = Table<String, Int64>("identity.tokens_revoked_before")

    private let store: Store
    private let configuration: Configuration
    private let signingKeys: Mutex<(current: SigningKey, all: [String: SigningKey])>

    /// Loads the keys, making the first one if the store has none.
    public init(store: Store, configuration: Configuration = Configuration()) throws {
        self.store = store
        self.configuration = configuration
        let loaded = try store.withWriteTransactionBlocking { txn -> (SigningKey, [String: SigningKey]) in
            var all: [String: SigningKey] = [:]
            try txn.forEach(Self.keys) { id, bytes in
                if let key = try? JSONDecoder().decode(SigningKey.self, from: Data(bytes)) { all[id] = key }
                return true
            }
            if let currentID = try txn.get(Self.currentKey, "current"), let current = all[currentID] {
                return (current, all)
            }
            let key = try Self.makeKey(now: txn.now)
            try txn.put(Self.keys, key.id, Array(try JSONEncoder().encode(key)))
            try txn.put(Self.currentKey, "current", key.id)
            all[key.id] = key
            return (key, all)
        }
        self.signingKeys = Mutex((loaded.0, loaded.1))
    }

    static func makeKey(now: StoreInstant) throws -> SigningKey {
        SigningKey(id: try Random.bytes(8).hexString, secret: try Random.bytes(32), createdMillis: now.millisecondsSinceEpoch)
    }

    /// Makes a new signing key; tokens signed with older keys stay valid until they expire.
    public func rotate() async throws {
        let key = try Self.makeKey(now: store.clock.now())
        let encoded = Array(try JSONEncoder().encode(key))
        try await store.withWriteTransaction { txn in
            try txn.put(Self.keys, key.id, encoded)
            try txn.put(Self.currentKey, "current", key.id)
        }
        signingKeys.withLock { keys in
            keys.current = key
            keys.all[key.id] = key
        }
    }

    var currentSigningKey: SigningKey { signingKeys.withLock { $0.current } }

    // MARK: Issuing

    public func issue(user: String, role: String) throws -> Issued {
        let secret = try Random.bytes(32).base64URL
        let now = store.clock.now().millisecondsSinceEpoch / 1000
        let lifetime = configuration.lifetime.components.seconds
        let claims = Claims(
            sub: user, role: role, ctx: Self.contextHash(secret),
            iat: now, exp: now + lifetime, jti: try Random.bytes(16).hexString
        )
        let key = signingKeys.withLock { $0.current }
        let header = #"{"alg":"HS256","typ":"\#(Self.type)","kid":"\#(key.id)"}"#
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let payload = Array(try encoder.encode(claims))
        let signingInput = Array(header.utf8).base64URL + "." + payload.base64URL
        let signature = HMAC.sha256(key: key.secret, message: Array(signingInput.utf8))
        return Issued(token: signingInput + "." + signature.base64URL, contextSecret: secret, claims: claims)
    }

    static func contextHash(_ secret: String) -> String {
        SHA256.hash(Array(secret.utf8)).base64URL
    }

    // MARK: Verifying

    /// The token's claims if it is genuine, current, not revoked and matches `contextSecret`.
    public func verify(token: String, contextSecret: String?) throws(TokenError) -> Claims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.utf8.count <= 4096, parts.count == 3 else { throw TokenError(.malformed, "a token has three dot-separated parts") }
        guard let headerBytes = [UInt8](base64URL: parts[0]), let payloadBytes = [UInt8](base64URL: parts[1]),
            let signature = [UInt8](base64URL: parts[2])
        else { throw TokenError(.malformed, "the token is not base64url") }
        // RFC 7515 §2 and RFC 8259: both parts are UTF-8 JSON, whose strings hold no raw control
        // characters and only JSON's escapes. Foundation's JSONDecoder reads all three where PyJWT
        // and JSONSerialization refuse the whole text (found by FuzzSessionTokens), so such
        // tokens are refused first.
        guard Self.isStrictJSONText(headerBytes), Self.isStrictJSONText(payloadBytes) else {
            throw TokenError(.malformed, "the token's header or claims are not UTF-8 JSON text")
        }
        // RFC 7519 §4: duplicate member names must be refused or read as the last; Foundation's
        // JSONDecoder reads the first, so a token naming anything twice is refused.
        guard !Self.namesAMemberTwice(headerBytes), !Self.namesAMemberTwice(payloadBytes) else {
            throw TokenError(.malformed, "the token names a header parameter or a claim twice")
        }
        guard let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes)) else {
            throw TokenError(.malformed, "the token's header is not the JSON object expected")
        }
        // RFC 8725 §3.1: the algorithm is this server's choice, not the token's.
        guard header.alg == "HS256" else { throw TokenError(.wrongAlgorithm, "the token says alg \(header.alg); only HS256 is accepted") }
        guard header.typ == Self.type else { throw TokenError(.wrongType, "the token's typ is not \(Self.type)") }
        guard let kid = header.kid, let key = signingKeys.withLock({ $0.all[kid] }) else {
            throw TokenError(.badSignature, "the token was not signed by this server")
        }
        let expected = HMAC.sha256(key: key.secret, message: Array("\(parts[0]).\(parts[1])".utf8))
        guard signature.count == expected.count, constantTimeEquals(signature, expected) else {
            throw TokenError(.badSignature, "the token's signature does not verify")
        }
        guard let claims = try? JSONDecoder().decode(Claims.self, from: Data(payloadBytes)) else {
            throw TokenError(.malformed, "the token's claims are not the ones expected")
        }
        let now = store.clock.now().millisecondsSinceEpoch / 1000
        guard claims.exp > now else { throw TokenError(.expired, "the token expired") }
        guard claims.iat <= now + configuration.leeway.components.seconds else { throw TokenError(.malformed, "the token was issued in the future") }
        guard let contextSecret else { throw TokenError(.missingContext, "the token needs its context secret in \(Self.contextMetadataKey)") }
        guard constantTimeEquals(Array(Self.contextHash(contextSecret).utf8), Array(claims.ctx.utf8)) else {
            throw TokenError(.wrongContext, "the context secret does not belong to this token")
        }
        let revoked: Bool
        do {
            revoked = try store.withReadTransaction { txn in
                try txn.get(Self.revokedTokens, claims.jti) != nil
                    || (try txn.get(Self.revokedBefore, claims.sub)).map { claims.iat <= $0 } == true
            }
        } catch {
            throw TokenError(.unavailable, "cannot check revocations: \(error)")
        }
        guard !revoked else { throw TokenError(.revoked, "the token was revoked") }
        return claims
    }

    /// Whether `json` is UTF-8 with no control character in a string, only JSON's escapes
    /// (`\"` `\\` `\/` `\b` `\f` `\n` `\r` `\t` `\uXXXX`), and no control character outside a
    /// string but white space: what strict readers require where Foundation's JSONDecoder is
    /// lenient (the rest of the syntax is left to the decoder).
    static func isStrictJSONText(_ json: [UInt8]) -> Bool {
        guard String(validating: json, as: UTF8.self) != nil else { return false }
        let escapes = Set("\"\\/bfnrtu".utf8)
        var inString = false
        var escaped = false
        var hexDigitsDue = 0
        for byte in json {
            if inString {
                if byte < 0x20 { return false }
                if hexDigitsDue > 0 {
                    guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                        || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
                    else { return false }
                    hexDigitsDue -= 1
                } else if escaped {
                    guard escapes.contains(byte) else { return false }
                    escaped = false
                    if byte == UInt8(ascii: "u") { hexDigitsDue = 4 }
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte < 0x20, byte != 0x09, byte != 0x0A, byte != 0x0D {
                return false
            }
        }
        return true
    }

    /// Whether `json`, an object, names one of its own members twice (after unescaping, so
    /// `"ctx"` and `"\u0063tx"` are the same name). Nested objects are not looked into; anything
    /// that is not an object is left for the decoder to refuse.
    static func namesAMemberTwice(_ json: [UInt8]) -> Bool {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        guard json.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{") else { return false }
        var names = Set<String>()
        var depth = 0
        var expectsName = false
        var index = 0
        while index < json.count {
            let byte = json[index]
            if byte == quote {
                let start = index
                index += 1
                while index < json.count, json[index] != quote { index += json[index] == backslash ? 2 : 1 }
                guard index < json.count else { return false }
                if depth == 1, expectsName {
                    let literal = [UInt8(ascii: "[")] + json[start...index] + [UInt8(ascii: "]")]
                    guard let name = try? JSONDecoder().decode([String].self, from: Data(literal)).first else { return false }
                    if !names.insert(name).inserted { return true }
                    expectsName = false
                }
            } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                depth += 1
                expectsName = depth == 1
            } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                depth -= 1
            } else if byte == UInt8(ascii: ","), depth == 1 {
                expectsName = true
            }
            index += 1
        }
        return false
    }

    // MARK: Revoking

    /// Revokes one token (logout) until it would have expired anyway.
    public func revoke(_ claims: Claims) async throws {
        let expiresAt = StoreInstant(millisecondsSinceEpoch: claims.exp * 1000)
        try await store.withWriteTransaction { txn in
            try txn.put(Self.revokedTokens, claims.jti, true, expiresAt: expiresAt)
        }
    }

    /// Refuses every token of `user` issued up to now (inside `txn`, so account deletion does it in
    /// the same transaction as the rest).
    public static func revokeAll(for user: String, in txn: borrowing WriteTransaction) throws {
        try txn.put(revokedBefore, user, txn.now.millisecondsSinceEpoch / 1000)
    }

    public func revokeAll(for user: String) async throws {
        try await store.withWriteTransaction { txn in try Self.revokeAll(for: user, in: txn) }
    }

    private struct Header: Decodable {
        var alg: String
        var typ: String?
        var kid: String?
    }
}

/// Why a session token was refused.
public struct TokenError: Error, Sendable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        case malformed, wrongAlgorithm, wrongType, badSignature, expired, missingContext, wrongContext, revoked, unavailable
    }

    public var reason: Reason
    public var message: String

    init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { message }
}
