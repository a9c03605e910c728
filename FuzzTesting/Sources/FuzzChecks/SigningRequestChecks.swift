@testable import BastionIdentity
import BastionProtobuf
import BastionRPC
import BastionTLS

/// What a registering client sends to be certified: its PKCS #10 certificate signing request
/// (`SigningRequest`, OpenSSL's DER parser behind limits) and its KeyPackage (`KeyPackageCheck`,
/// docs/IDENTITY.md). The first input byte picks the mode:
///
/// - `C` (and anything else): the rest is a CSR. `SigningRequest(der:)` must throw a `TLSError` or
///   accept; an accepted request has a common name, kept its DER as given, and its key verifies
///   nothing that it did not sign.
/// - `K`: the rest is a `bastion.auth.v1.KeyPackage`, checked against a fixed request. It must be
///   refused (the fuzzer cannot sign with the request's key) with an `invalidArgument` RPCError.
/// - `S`: the rest is a KeyPackage whose signature the target replaces with the request key's
///   real signature over the content, to reach the checks behind the signature: it must then be
///   accepted exactly when both keys have 32 bytes and neither is all zeros.
public enum SigningRequestChecks {
    static let handle = "fuzz-registration-handle"
    static let key: ClientKey = {
        do { return try ClientKey() } catch { fatalError("cannot make a key: \(error)") }
    }()
    static let request: SigningRequest = {
        do { return try SigningRequest(der: try key.signingRequest(commonName: "fuzz-user")) } catch {
            fatalError("cannot make a certificate signing request: \(error)")
        }
    }()

    public static func run(_ input: [UInt8]) throws(FuzzFinding) {
        let split = ModeAndPayload(input)
        switch split.mode {
        case UInt8(ascii: "K"): try keyPackage(split.payload, signed: false)
        case UInt8(ascii: "S"): try keyPackage(split.payload, signed: true)
        default: try signingRequest(split.payload)
        }
    }

    static func signingRequest(_ der: [UInt8]) throws(FuzzFinding) {
        let parsed: SigningRequest
        do {
            parsed = try SigningRequest(der: der)
        } catch {
            return  // a TLSError (typed throws)
        }
        try require(der.count <= 8192, "accepted a request of \(der.count) bytes, above the 8 KiB limit")
        try require(parsed.der == der, "the request's DER is not the bytes received")
        try require(!parsed.verify(signature: der, over: der), "the request's key verified a signature made of its own DER")
    }

    static func keyPackage(_ bytes: [UInt8], signed: Bool) throws(FuzzFinding) {
        var package: Bastion_Auth_V1_KeyPackage
        do {
            package = try Bastion_Auth_V1_KeyPackage(serializedBytes: bytes)
        } catch {
            return  // a ProtobufError (typed throws)
        }
        if signed {
            let content = KeyPackageCheck.content(handle: handle, initKey: package.initKey, signatureKey: package.signatureKey)
            do {
                package.signature = try key.sign(content)
            } catch {
                throw FuzzFinding("cannot sign: \(error)")
            }
        }
        let shapeIsRight = package.initKey.count == 32 && package.signatureKey.count == 32
            && package.initKey.contains { $0 != 0 } && package.signatureKey.contains { $0 != 0 }
        do {
            try KeyPackageCheck.validate(package, handle: handle, request: request)
            try require(signed, "accepted a KeyPackage the request's key did not sign")
            try require(shapeIsRight, "accepted a KeyPackage with keys of \(package.initKey.count) and \(package.signatureKey.count) bytes")
        } catch let error as FuzzFinding {
            throw error
        } catch {
            guard let error = error as? RPCError, error.code == .invalidArgument else {
                throw FuzzFinding("KeyPackageCheck threw \(error), not invalidArgument")
            }
            try require(!(signed && shapeIsRight), "refused a well-formed KeyPackage with a genuine signature: \(error)")
        }
    }
}
