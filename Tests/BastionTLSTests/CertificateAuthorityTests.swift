import BastionTLS
import Foundation
import Testing

/// The client CA against the openssl command-line tool: it makes the requests (as a client
/// would), and `openssl verify` judges what the authority issues.
@Suite(.enabled(if: OpenSSLCLI.isAvailable)) struct CertificateAuthorityTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ca-\(UUID().uuidString)").path

    func withAuthority(_ body: (CertificateAuthority, DevelopmentCertificates.Files) async throws -> Void) async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = try DevelopmentCertificates.generate(directory: folder)
        try await body(try CertificateAuthority(certificatePath: files.caCertificate, privateKeyPath: files.caPrivateKey), files)
    }

    /// `openssl req` with a fresh key of `algorithm`; returns the request (DER) and the key's path.
    func request(subject: String, algorithm: [String], name: String) async throws -> (der: [UInt8], key: String) {
        let key = "\(folder)/\(name).key"
        let der = "\(folder)/\(name).csr"
        let result = try await OpenSSLCLI.run(["req", "-new", "-nodes", "-subj", subject, "-keyout", key, "-outform", "DER", "-out", der] + algorithm)
        #expect(result.status == 0, "\(result.output)")
        return (Array(try Data(contentsOf: URL(fileURLWithPath: der))), key)
    }

    static let p256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]

    @Test func issuesClientCertificatesThatOpenSSLVerifies() async throws {
        try await withAuthority { authority, files in
            for (name, algorithm) in [("p256", Self.p256), ("ed25519", ["-newkey", "ed25519"])] {
                let csr = try await request(subject: "/CN=alice", algorithm: algorithm, name: name)
                let request = try SigningRequest(der: csr.der)
                #expect(request.commonName == "alice")
                let issued = try authority.issueClientCertificate(for: request)
                let path = "\(folder)/\(name).pem"
                try Data(issued.pem).write(to: URL(fileURLWithPath: path))
                let verify = try await OpenSSLCLI.run(["verify", "-CAfile", files.caCertificate, "-purpose", "sslclient", path])
                #expect(verify.status == 0 && verify.output.contains("OK"), "\(verify.output)")
                // Only the common name is copied; it cannot act as a CA or a server.
                let text = try await OpenSSLCLI.run(["x509", "-in", path, "-noout", "-subject", "-ext", "basicConstraints,extendedKeyUsage"])
                #expect(text.output.contains("subject=CN = alice"), "\(text.output)")
                #expect(text.output.contains("CA:FALSE"))
                #expect(text.output.contains("TLS Web Client Authentication"))
                #expect(!text.output.contains("Server Authentication"))
                let fingerprint = try await OpenSSLCLI.run(["x509", "-in", path, "-noout", "-fingerprint", "-sha256"])
                #expect(fingerprint.output.replacingOccurrences(of: ":", with: "").lowercased().contains(issued.fingerprint))
            }
        }
    }

    @Test func refusesBadRequests() async throws {
        try await withAuthority { _, _ in
            // A signature that does not verify (one bit flipped near the end, inside it).
            var tampered = try await request(subject: "/CN=alice", algorithm: Self.p256, name: "tampered").der
            tampered[tampered.count - 3] ^= 0x01
            #expect(throws: TLSError.self) { try SigningRequest(der: tampered) }
            // An RSA key, a subject with more than a common name, garbage, nothing.
            let rsa = try await request(subject: "/CN=alice", algorithm: ["-newkey", "rsa:2048"], name: "rsa").der
            #expect(throws: TLSError.self) { try SigningRequest(der: rsa) }
            let wide = try await request(subject: "/O=Evil Corp/CN=alice", algorithm: Self.p256, name: "wide").der
            #expect(throws: TLSError.self) { try SigningRequest(der: wide) }
            #expect(throws: TLSError.self) { try SigningRequest(der: [0x30, 0x03, 0x02, 0x01, 0x01]) }
            #expect(throws: TLSError.self) { try SigningRequest(der: []) }
        }
    }

    /// What a KeyPackage relies on: a signature made with the request's key verifies against it.
    @Test func verifiesSignaturesOfTheRequestKey() async throws {
        try await withAuthority { _, _ in
            for (name, algorithm) in [("p256", Self.p256), ("ed25519", ["-newkey", "ed25519"])] {
                let csr = try await request(subject: "/CN=bob", algorithm: algorithm, name: name)
                let request = try SigningRequest(der: csr.der)
                let message = "\(folder)/\(name).msg"
                let signature = "\(folder)/\(name).sig"
                try Data("key package".utf8).write(to: URL(fileURLWithPath: message))
                let arguments = name == "ed25519"
                    ? ["pkeyutl", "-sign", "-rawin", "-inkey", csr.key, "-in", message, "-out", signature]
                    : ["dgst", "-sha256", "-sign", csr.key, "-out", signature, message]
                let signed = try await OpenSSLCLI.run(arguments)
                #expect(signed.status == 0, "\(signed.output)")
                let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: signature)))
                #expect(request.verify(signature: bytes, over: Array("key package".utf8)))
                #expect(!request.verify(signature: bytes, over: Array("another package".utf8)))
            }
        }
    }

    /// The client side: a key that makes requests the authority accepts and signs what they check.
    @Test func clientKeysMakeRequestsAndSignatures() async throws {
        try await withAuthority { authority, files in
            let key = try ClientKey()
            let request = try SigningRequest(der: try key.signingRequest(commonName: "carol"))
            #expect(request.commonName == "carol")
            let signature = try key.sign(Array("content".utf8))
            #expect(request.verify(signature: signature, over: Array("content".utf8)))
            // The PEM reads back (here and in openssl) as the same key.
            let pem = try key.privateKeyPEM()
            let again = try ClientKey(pem: pem)
            #expect(request.verify(signature: try again.sign(Array("x".utf8)), over: Array("x".utf8)))
            let path = "\(folder)/client.key"
            try Data(pem).write(to: URL(fileURLWithPath: path))
            #expect(try await OpenSSLCLI.run(["pkey", "-in", path, "-noout"]).status == 0)
            let issued = try authority.issueClientCertificate(for: request)
            try Data(issued.pem).write(to: URL(fileURLWithPath: "\(folder)/client.pem"))
            let verify = try await OpenSSLCLI.run(["verify", "-CAfile", files.caCertificate, "\(folder)/client.pem"])
            #expect(verify.status == 0)
        }
    }
}
