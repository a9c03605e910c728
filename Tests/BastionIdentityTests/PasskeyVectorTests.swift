import BastionIdentity
import Foundation
import Testing
import BastionTestSupport

/// The WebAuthn parsers and the relying party's checks against objects made by the Python `fido2`
/// package (2.2.1): fixed vectors, made once with `Tools/clients/python/tests/passkey_vectors.py
/// fixed` and checked in below, and fresh random ones from the same script, compared field by
/// field with what fido2 parses out of them. fido2's own `Fido2Server` accepted each of them.
@Suite struct PasskeyVectorTests {
    struct Vector: Decodable {
        struct Registration: Decodable {
            var challenge: String
            var client_data_json: String
            var attestation_object: String
            var fmt: String
            var auth_data: String
            var rp_id_hash: String
            var flags: UInt8
            var sign_count: UInt32
            var aaguid: String
            var credential_id: String
            var x: String
            var y: String
            var client_data_type: String
            var client_data_origin: String
        }
        struct Assertion: Decodable {
            var challenge: String
            var client_data_json: String
            var authenticator_data: String
            var signature: String
            var user_handle: String
            var flags: UInt8
            var sign_count: UInt32
        }
        var rp_id: String
        var origin: String
        var algorithm: Int64
        var registration: Registration
        var assertion: Assertion
    }

    static let fixed: [Vector] = try! JSONDecoder().decode([Vector].self, from: Data(fixedJSON.utf8))

    static func party(_ vector: Vector, userVerification: WebAuthnRelyingParty.UserVerification = .preferred)
        -> WebAuthnRelyingParty
    {
        WebAuthnRelyingParty(id: vector.rp_id, name: "Example", origins: [vector.origin], userVerification: userVerification)
    }

    /// Parses a vector's registration and assertion, checks every field against fido2's reading,
    /// and runs both ceremonies through the relying party.
    static func check(_ vector: Vector) throws {
        let registration = vector.registration
        let clientData = try CollectedClientData(try hex(registration.client_data_json))
        #expect(clientData.type == registration.client_data_type)
        #expect(clientData.origin == registration.client_data_origin)
        #expect(clientData.challenge == (try hex(registration.challenge)))
        let authData = try AuthenticatorData(try hex(registration.auth_data))
        #expect(authData.rpIDHash == (try hex(registration.rp_id_hash)))
        #expect(authData.flags.rawValue == registration.flags)
        #expect(authData.signCount == registration.sign_count)
        let attested = try #require(authData.attestedCredential)
        #expect(attested.aaguid == (try hex(registration.aaguid)))
        #expect(attested.credentialID == (try hex(registration.credential_id)))
        #expect(attested.publicKey.algorithm.rawValue == vector.algorithm)
        if vector.algorithm == -7 {
            #expect(attested.publicKey.publicKey == [0x04] + (try hex(registration.x)) + (try hex(registration.y)))
        } else {
            #expect(attested.publicKey.publicKey == (try hex(registration.x)))
        }

        let party = Self.party(vector)
        let credential = try party.verifyRegistration(
            clientData: clientData,
            attestationObject: try hex(registration.attestation_object),
            challenge: try hex(registration.challenge)
        )
        #expect(credential.credentialID == attested.credentialID)
        #expect(credential.attestationFormat == registration.fmt)
        #expect(credential.signCount == registration.sign_count)
        // The stored form decodes to the same key.
        #expect(try COSEKey(encoded: credential.publicKeyBytes) == credential.publicKey)

        let assertion = vector.assertion
        let assertionData = try CollectedClientData(try hex(assertion.client_data_json))
        let verified = try party.verifyAssertion(
            clientData: assertionData,
            authenticatorData: try hex(assertion.authenticator_data),
            signature: try hex(assertion.signature),
            challenge: try hex(assertion.challenge),
            publicKey: credential.publicKey,
            storedSignCount: credential.signCount,
            userHandle: try hex(assertion.user_handle),
            expectedUserHandle: try hex(assertion.user_handle)
        )
        #expect(verified.signCount == assertion.sign_count)
        #expect(verified.flags.rawValue == assertion.flags)
        #expect(verified.attestedCredential == nil)
    }

    @Test(arguments: 0..<3) func fixedVectorsParseAsFido2ReadsThemAndVerify(index: Int) throws {
        try Self.check(Self.fixed[index])
    }

    @Test func freshRandomVectorsFromFido2() async throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Tools/clients/python/tests/passkey_vectors.py")
        let (status, output) = try await run(["python3", script.path, "random", "40"])
        try #require(
            status == 0,
            "passkey_vectors.py failed (needs python3 with fido2 2.2.1 and cryptography; Tools/setup.sh):\n\(output)"
        )
        let lines = output.split(separator: "\n")
        #expect(lines.count == 40)
        for line in lines {
            try Self.check(try JSONDecoder().decode(Vector.self, from: Data(line.utf8)))
        }
    }

    // MARK: Refusals, each on an otherwise valid vector

    func assertion(
        _ vector: Vector,
        party: WebAuthnRelyingParty? = nil,
        clientData: [UInt8]? = nil,
        authenticatorData: [UInt8]? = nil,
        storedSignCount: UInt32 = 0,
        userHandle: [UInt8]? = nil
    ) throws(WebAuthnError) -> AuthenticatorData {
        let key = try AuthenticatorData(try! hex(vector.registration.auth_data)).attestedCredential!.publicKey
        return try (party ?? Self.party(vector)).verifyAssertion(
            clientData: try CollectedClientData(clientData ?? (try! hex(vector.assertion.client_data_json))),
            authenticatorData: authenticatorData ?? (try! hex(vector.assertion.authenticator_data)),
            signature: try! hex(vector.assertion.signature),
            challenge: try! hex(vector.assertion.challenge),
            publicKey: key,
            storedSignCount: storedSignCount,
            userHandle: userHandle ?? (try! hex(vector.assertion.user_handle)),
            expectedUserHandle: try! hex(vector.assertion.user_handle)
        )
    }

    /// The code of the WebAuthnError `body` throws; nil when it throws nothing.
    func code(_ body: () throws -> Void) -> WebAuthnError.Code? {
        do {
            try body()
            return nil
        } catch let error as WebAuthnError {
            return error.code
        } catch {
            Issue.record("not a WebAuthnError: \(error)")
            return nil
        }
    }

    @Test func assertionRefusals() throws {
        let vector = Self.fixed[0]
        let original = try hex(vector.assertion.client_data_json)
        let text = String(decoding: original, as: UTF8.self)
        func edited(_ from: String, _ to: String) -> [UInt8] { Array(text.replacingOccurrences(of: from, with: to).utf8) }

        #expect(code { _ = try assertion(vector) } == nil)
        #expect(code { _ = try assertion(vector, clientData: edited("https://example.com", "https://evil.example")) } == .wrongOrigin)
        #expect(code { _ = try assertion(vector, clientData: edited("webauthn.get", "webauthn.create")) } == .wrongType)
        #expect(code { _ = try assertion(vector, clientData: edited("\"crossOrigin\":false", "\"crossOrigin\":true")) } == .crossOrigin)
        // Same bytes, other RP ID configured.
        var otherParty = Self.party(vector)
        otherParty.id = "evil.example"
        #expect(code { _ = try assertion(vector, party: otherParty) } == .wrongRelyingParty)
        // UP cleared (the signature would not verify either; flags are checked first).
        var authData = try hex(vector.assertion.authenticator_data)
        authData[32] &= ~0x01
        #expect(code { _ = try assertion(vector, authenticatorData: authData) } == .userNotPresent)
        // UV cleared where the server requires it.
        authData = try hex(vector.assertion.authenticator_data)
        authData[32] &= ~0x04
        #expect(code { _ = try assertion(vector, authenticatorData: authData) } == .badSignature)
        #expect(
            code { _ = try assertion(vector, party: Self.party(vector, userVerification: .required), authenticatorData: authData) }
                == .userNotVerified
        )
        // A changed counter breaks the signature.
        authData = try hex(vector.assertion.authenticator_data)
        authData[36] &+= 1
        #expect(code { _ = try assertion(vector, authenticatorData: authData) } == .badSignature)
        // The counter rule: the vector's counter is 2.
        #expect(code { _ = try assertion(vector, storedSignCount: 1) } == nil)
        #expect(code { _ = try assertion(vector, storedSignCount: 2) } == .counterRegressed)
        #expect(code { _ = try assertion(vector, storedSignCount: 9) } == .counterRegressed)
        #expect(code { _ = try assertion(vector, userHandle: [1, 2, 3]) } == .wrongUser)
        // An empty user handle is allowed (non-discoverable credentials send none).
        #expect(code { _ = try assertion(vector, userHandle: []) } == nil)
    }

    /// fido2's third vector has no counter (0 at registration and assertion): allowed.
    @Test func zeroCountersAreAllowed() throws {
        let vector = Self.fixed[2]
        #expect(vector.assertion.sign_count == 0)
        #expect(code { _ = try assertion(vector, storedSignCount: 0) } == nil)
        #expect(code { _ = try assertion(vector, storedSignCount: 1) } == .counterRegressed)
    }

    @Test func registrationRefusals() throws {
        let vector = Self.fixed[1]  // EdDSA, packed self-attestation
        let party = Self.party(vector)
        let clientData = try CollectedClientData(try hex(vector.registration.client_data_json))
        let object = try hex(vector.registration.attestation_object)
        #expect(code { _ = try party.verifyRegistration(clientData: clientData, attestationObject: object, challenge: clientData.challenge) } == nil)
        #expect(code { _ = try party.verifyRegistration(clientData: clientData, attestationObject: object, challenge: [1]) } == .wrongChallenge)
        var other = party
        other.origins = ["https://example.org"]
        #expect(code { _ = try other.verifyRegistration(clientData: clientData, attestationObject: object, challenge: clientData.challenge) } == .wrongOrigin)
        other = party
        other.id = "example.org"
        #expect(code { _ = try other.verifyRegistration(clientData: clientData, attestationObject: object, challenge: clientData.challenge) } == .wrongRelyingParty)
        other = party
        other.algorithms = [.es256]
        #expect(code { _ = try other.verifyRegistration(clientData: clientData, attestationObject: object, challenge: clientData.challenge) } == .unsupported)
        // A packed self-attestation over other client data does not verify.
        let otherData = try CollectedClientData(
            Array(String(decoding: clientData.bytes, as: UTF8.self).replacingOccurrences(of: "false", with: "false ").utf8)
        )
        #expect(code { _ = try party.verifyRegistration(clientData: otherData, attestationObject: object, challenge: clientData.challenge) } == .badAttestation)
        // An assertion's client data is not a registration's.
        let getData = try CollectedClientData(try hex(vector.assertion.client_data_json))
        #expect(code { _ = try party.verifyRegistration(clientData: getData, attestationObject: object, challenge: getData.challenge) } == .wrongType)
        // Other attestation formats are refused.
        let tpm = try CBOR.decode(object).mapEntries!.map { entry in
            entry.key == .text("fmt") ? CBOR.Entry(key: entry.key, value: .text("tpm")) : entry
        }
        #expect(code { _ = try party.verifyRegistration(clientData: clientData, attestationObject: PasskeyCBORTests.encode(.map(tpm)), challenge: clientData.challenge) } == .unsupported)
    }

    // MARK: Helpers

    static func hex(_ text: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { throw CocoaError(.coderInvalidValue) }
            bytes.append(byte)
            index = next
        }
        return bytes
    }

    func hex(_ text: String) throws -> [UInt8] { try Self.hex(text) }

/// Runs a program found on the PATH to its end (BastionTestSupport's runProgram).
    func run(_ arguments: [String]) async throws -> (Int32, String) {
        try await runProgram(URL(fileURLWithPath: "/usr/bin/env"), arguments)
    }
}

/// `passkey_vectors.py fixed`, run once.
let fixedJSON = #"""
[
 {
  "rp_id": "example.com",
  "origin": "https://example.com",
  "algorithm": -7,
  "registration": {
   "challenge": "bee9f199737a22716097c2d7c4313c76e8420b6d00c85788c5239108cdd50525",
   "client_data_json": "7b2274797065223a22776562617574686e2e637265617465222c226368616c6c656e6765223a2276756e786d584e36496e46676c384c587844453864756843433230417946654978534f52434d3356425355222c226f726967696e223a2268747470733a2f2f6578616d706c652e636f6d222c2263726f73734f726967696e223a66616c73657d",
   "attestation_object": "a363666d74646e6f6e656761747453746d74a068617574684461746158a4a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce19474500000001000000000000000000000000000000000020afae2bd24450aa6b7b29898d11400e7c2db2c64a83d1c79b678757be4e51a734a5010203262001215820088bb9ff22ab291a74c86fc677ba897baadee370cc6129b82d170ba3fc26415c225820442da9a716067956d91eaa02b93ad409490e87cd5e758ea6a331a1deb75ba846",
   "fmt": "none",
   "auth_data": "a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce19474500000001000000000000000000000000000000000020afae2bd24450aa6b7b29898d11400e7c2db2c64a83d1c79b678757be4e51a734a5010203262001215820088bb9ff22ab291a74c86fc677ba897baadee370cc6129b82d170ba3fc26415c225820442da9a716067956d91eaa02b93ad409490e87cd5e758ea6a331a1deb75ba846",
   "rp_id_hash": "a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce1947",
   "flags": 69,
   "sign_count": 1,
   "aaguid": "00000000000000000000000000000000",
   "credential_id": "afae2bd24450aa6b7b29898d11400e7c2db2c64a83d1c79b678757be4e51a734",
   "x": "088bb9ff22ab291a74c86fc677ba897baadee370cc6129b82d170ba3fc26415c",
   "y": "442da9a716067956d91eaa02b93ad409490e87cd5e758ea6a331a1deb75ba846",
   "client_data_type": "webauthn.create",
   "client_data_origin": "https://example.com"
  },
  "assertion": {
   "challenge": "8adfd0b215447f94e770f8d1bce8396a24fef42c9b927b1786c142d34ad479b8",
   "client_data_json": "7b2274797065223a22776562617574686e2e676574222c226368616c6c656e6765223a2269745f51736856456635546e63506a52764f67356169542d394379626b6e73586873464330307255656267222c226f726967696e223a2268747470733a2f2f6578616d706c652e636f6d222c2263726f73734f726967696e223a66616c73657d",
   "authenticator_data": "a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce19470500000002",
   "signature": "3046022100ea0889cae890f6ba79f8fa2a72f25d05d3d1ae0427ae4f092793297ac1625217022100c085ab2a5b62346bb8916fbc6fe8a12d4920386f4fdd67306ae529f22c840517",
   "user_handle": "2291d8cdc310411e7ec27378a661c935187c07e4d5636e9bc3c400b27244b8cd",
   "flags": 5,
   "sign_count": 2
  },
  "fido2_server_accepted": true
 },
 {
  "rp_id": "example.com",
  "origin": "https://example.com",
  "algorithm": -8,
  "registration": {
   "challenge": "d821f78c8314e244fb2eab73351efba917d77847a7d2fbe3b7cead25514a6a9d",
   "client_data_json": "7b2274797065223a22776562617574686e2e637265617465222c226368616c6c656e6765223a22324348336a494d55346b54374c71747a4e523737715266586545656e3076766a743836744a56464b617030222c226f726967696e223a2268747470733a2f2f6578616d706c652e636f6d222c2263726f73734f726967696e223a66616c73657d",
   "attestation_object": "a363666d74667061636b65646761747453746d74a263616c6727637369675840a22f94d52cf7321ec0c693685185784667f8211f2f304d92ad929ae66057baddd434ce3ed11e9893d66a3ebd9fc52a00d510e762ad39340a7ba78ad313149e0e6861757468446174615881a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce194745000000010000000000000000000000000000000000206d3d7ff0f07e1bb29303f9c91a00772520f1c1b8a1034ad0f6181c30d50a6a11a40101032720062158207ea2e688436dfdf6c910b5010b3a91c003e2ef9a35facb5c0029f14993b76ec9",
   "fmt": "packed",
   "auth_data": "a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce194745000000010000000000000000000000000000000000206d3d7ff0f07e1bb29303f9c91a00772520f1c1b8a1034ad0f6181c30d50a6a11a40101032720062158207ea2e688436dfdf6c910b5010b3a91c003e2ef9a35facb5c0029f14993b76ec9",
   "rp_id_hash": "a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce1947",
   "flags": 69,
   "sign_count": 1,
   "aaguid": "00000000000000000000000000000000",
   "credential_id": "6d3d7ff0f07e1bb29303f9c91a00772520f1c1b8a1034ad0f6181c30d50a6a11",
   "x": "7ea2e688436dfdf6c910b5010b3a91c003e2ef9a35facb5c0029f14993b76ec9",
   "y": "",
   "client_data_type": "webauthn.create",
   "client_data_origin": "https://example.com"
  },
  "assertion": {
   "challenge": "4b398261b50c8cd700c99d93a69518bbdd1162a0eb90f60450073561c1292e2b",
   "client_data_json": "7b2274797065223a22776562617574686e2e676574222c226368616c6c656e6765223a22537a6d435962554d6a4e6341795a32547070555975393052597144726b50594555416331596345704c6973222c226f726967696e223a2268747470733a2f2f6578616d706c652e636f6d222c2263726f73734f726967696e223a66616c73657d",
   "authenticator_data": "a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce19470500000002",
   "signature": "6ded1ee70b7883a980842cd86175fd30653bb09d51b7659ffb96dfbffe59fdf4467dd42c074eec4e71b401dfe83b1ac24bd20c1c21ed89bde5a0765e8908610e",
   "user_handle": "3a97f11ae651070506a68a02f0e161af37f86cb9078738c370f07e8d3b583bad",
   "flags": 5,
   "sign_count": 2
  },
  "fido2_server_accepted": true
 },
 {
  "rp_id": "example.com",
  "origin": "https://example.com",
  "algorithm": -7,
  "registration": {
   "challenge": "7444e8aa1c0f6733979da192f776dfd603a44d161f96e732e31a81cd54a2d861",
   "client_data_json": "7b2274797065223a22776562617574686e2e637265617465222c226368616c6c656e6765223a226445546f716877505a7a4f586e6147533933626631674f6b545259666c756379347871427a565369324745222c226f726967696e223a2268747470733a2f2f6578616d706c652e636f6d222c2263726f73734f726967696e223a66616c73657d",
   "attestation_object": "a363666d74667061636b65646761747453746d74a263616c67266373696758463044022042947d446efa4508afd0e73b3398f767ba5c3b019859a573fd9efbcefbb6a49d022050a7cc2a277429f89180d66196aac7525590fc49be0a041d9ac459cf764f848668617574684461746158a4a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce19474500000000000000000000000000000000000000000020c3fa122221946fa49aeb5132ea0f6773683c889a7e9ffe29fc693e67e1d1661ea5010203262001215820088bb9ff22ab291a74c86fc677ba897baadee370cc6129b82d170ba3fc26415c225820442da9a716067956d91eaa02b93ad409490e87cd5e758ea6a331a1deb75ba846",
   "fmt": "packed",
   "auth_data": "a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce19474500000000000000000000000000000000000000000020c3fa122221946fa49aeb5132ea0f6773683c889a7e9ffe29fc693e67e1d1661ea5010203262001215820088bb9ff22ab291a74c86fc677ba897baadee370cc6129b82d170ba3fc26415c225820442da9a716067956d91eaa02b93ad409490e87cd5e758ea6a331a1deb75ba846",
   "rp_id_hash": "a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce1947",
   "flags": 69,
   "sign_count": 0,
   "aaguid": "00000000000000000000000000000000",
   "credential_id": "c3fa122221946fa49aeb5132ea0f6773683c889a7e9ffe29fc693e67e1d1661e",
   "x": "088bb9ff22ab291a74c86fc677ba897baadee370cc6129b82d170ba3fc26415c",
   "y": "442da9a716067956d91eaa02b93ad409490e87cd5e758ea6a331a1deb75ba846",
   "client_data_type": "webauthn.create",
   "client_data_origin": "https://example.com"
  },
  "assertion": {
   "challenge": "072a4501da943380661b64ab641ad2628c1c425981b6771ab8bd11ab2f75cedd",
   "client_data_json": "7b2274797065223a22776562617574686e2e676574222c226368616c6c656e6765223a2242797046416471554d34426d473253725a427253596f7763516c6d42746e6361754c3052717939317a7430222c226f726967696e223a2268747470733a2f2f6578616d706c652e636f6d222c2263726f73734f726967696e223a66616c73657d",
   "authenticator_data": "a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce19470500000000",
   "signature": "3045022100ddc1b6795eb9d4440240c6abd6ab5e1d25d6322d4f3094878c4f702f3d9db4ca02207ade95ca7bb03fd6fe021566d7e783cbe9f443bff1f19709d470d163e353cd71",
   "user_handle": "38c275f34aed056ad6ea8eeca4192fa1feb9dc4b1ebe55e5b8f9b680eff76c81",
   "flags": 5,
   "sign_count": 0
  },
  "fido2_server_accepted": true
 }
]
"""#
