@testable import BastionIdentity
import BastionStore
import Foundation
import Logging

/// Session tokens (JWT HS256 bound to a context secret, docs/IDENTITY.md) as `SessionTokens.verify`
/// reads them from a caller's `authorization` metadata.
///
/// The store holds one signing key with a fixed id and secret (`kid` "fuzz"), so the seeds in
/// `Corpus/FuzzSessionTokens` stay valid from run to run. The first input byte picks the mode:
///
/// - `T` (and anything else): the rest is the token text. `verify` must throw a `TokenError` or
///   accept; it may accept only the claims of a token this server signed (the fuzzer cannot forge
///   HMAC, so acceptance means the input is a seed's token, perhaps in another base64url spelling).
/// - `S`: the rest is a header and a claims JSON text, separated by the first 0x00 byte; the target
///   signs them with the store's key, as an attacker holding a genuine signature could not, to reach
///   the header and claims checks behind the signature. What `verify` accepts is then checked against
///   an independent reading of the JSON (`JSONSerialization`): `alg` HS256, `typ` at+jwt, `kid` fuzz,
///   an unexpired `exp`, an `iat` not in the future, and a `ctx` matching the context secret.
public enum TokenChecks {
    static let keyID = "fuzz"
    static let keySecret = [UInt8](repeating: 0x42, count: 32)
    static let contextSecret = "fuzz-context-secret"

    /// A store in a fresh folder with the fixed key, and the tokens service over it; made once per
    /// process (the fuzzer runs millions of inputs against it).
    static let tokens: SessionTokens = {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-tokens-\(UUID().uuidString)").path
        do {
            let store = try Store(path: folder, logger: Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() })
            let key = SessionTokens.SigningKey(id: keyID, secret: keySecret, createdMillis: 0)
            let encoded = Array(try JSONEncoder().encode(key))
            try store.withWriteTransactionBlocking { txn in
                try txn.put(SessionTokens.keys, keyID, encoded)
                try txn.put(SessionTokens.currentKey, "current", keyID)
            }
            return try SessionTokens(store: store)
        } catch {
            fatalError("cannot make the token store: \(error)")
        }
    }()

    public static func run(_ input: [UInt8]) throws(FuzzFinding) {
        let split = ModeAndPayload(input)
        if split.mode == UInt8(ascii: "S") {
            try signedHeaderAndClaims(split.payload)
        } else {
            try tokenText(String(decoding: split.payload, as: UTF8.self))
        }
    }

    static func tokenText(_ token: String) throws(FuzzFinding) {
        let claims: SessionTokens.Claims
        do {
            claims = try tokens.verify(token: token, contextSecret: contextSecret)
        } catch {
            return  // typed throws: a TokenError, which is what a refusal must be
        }
        // Accepted: the signature verified, so the two first parts are bytes this key signed.
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        try require(parts.count == 3, "accepted a token of \(parts.count) parts")
        let expected = HMAC.sha256(key: keySecret, message: Array("\(parts[0]).\(parts[1])".utf8))
        try require([UInt8](base64URL: parts[2]) == expected, "accepted a token whose signature is not the key's")
        try claimsAreAcceptable(claims, payload: [UInt8](base64URL: parts[1]) ?? [], header: [UInt8](base64URL: parts[0]) ?? [])
    }

    static func signedHeaderAndClaims(_ payload: [UInt8]) throws(FuzzFinding) {
        let separator = payload.firstIndex(of: 0) ?? payload.endIndex
        let header = Array(payload[..<separator])
        let body = separator < payload.endIndex ? Array(payload[(separator + 1)...]) : []
        let signingInput = header.base64URL + "." + body.base64URL
        let signature = HMAC.sha256(key: keySecret, message: Array(signingInput.utf8))
        let token = signingInput + "." + signature.base64URL
        let claims: SessionTokens.Claims
        do {
            claims = try tokens.verify(token: token, contextSecret: contextSecret)
        } catch {
            return
        }
        try claimsAreAcceptable(claims, payload: body, header: header)
    }

    /// What an accepted token's header and claims must say, read with another JSON parser.
    static func claimsAreAcceptable(_ claims: SessionTokens.Claims, payload: [UInt8], header: [UInt8]) throws(FuzzFinding) {
        let headerObject = (try? JSONSerialization.jsonObject(with: Data(header))) as? [String: Any]
        try require(headerObject != nil, "accepted a header that is not a JSON object: \(String(decoding: header, as: UTF8.self))")
        try require(headerObject?["alg"] as? String == "HS256", "accepted a header without alg HS256: \(String(decoding: header, as: UTF8.self))")
        try require(headerObject?["typ"] as? String == "at+jwt", "accepted a header without typ at+jwt: \(String(decoding: header, as: UTF8.self))")
        try require(headerObject?["kid"] as? String == keyID, "accepted a header without this key's kid")
        let claimsObject = (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any]
        try require(claimsObject != nil, "accepted claims that are not a JSON object: \(String(decoding: payload, as: UTF8.self))")
        let now = Int64(Date().timeIntervalSince1970)
        try require(claims.exp > now, "accepted an expired token")
        try require(integer(claimsObject?["exp"]) == claims.exp, "exp read differently by another parser")
        try require(integer(claimsObject?["iat"]) == claims.iat, "iat read differently by another parser")
        try require(claims.iat <= now + 60, "accepted a token issued in the future")
        try require(claimsObject?["ctx"] as? String == claims.ctx, "ctx read differently by another parser")
        try require(claims.ctx == SessionTokens.contextHash(contextSecret), "accepted a ctx of another context secret")
        try require(claimsObject?["sub"] as? String == claims.sub, "sub read differently by another parser")
        try require(claimsObject?["role"] as? String == claims.role, "role read differently by another parser")
    }

    /// A JSON number as `JSONSerialization` hands it back, as an integer, if it is one.
    static func integer(_ value: Any?) -> Int64? {
        if let value = value as? Int { return Int64(value) }
        if let value = value as? Int64 { return value }
        if let value = value as? NSNumber { return value.int64Value }
        return nil
    }
}
