import BastionAdmin
import BastionBuiltinServices
import BastionPolicy
import BastionProtobuf
import BastionRPC
import BastionStore
import BastionTLS
import BastionTransport
import Foundation
import Testing

/// The admin service of a real `bastiond` over its admin socket and its TLS port, with its real
/// LMDB store; the metrics endpoint over HTTP; `bastion admin` as an operator types it. One
/// server process at a time, so that the suite does not crowd the machine's other timing tests.
@Suite(.serialized) struct AdminDaemonTests {
    static let echoGet = Bastion_Echo_V1_Echo.Method.get.path
    static let healthCheck = Bastion_Health_V1_Health.Method.check.path

    func echo(_ daemon: Daemon) async throws -> RPCError? {
        let connection = try await daemon.tlsConnection(withCertificate: false)
        defer { Task { await connection.close() } }
        do {
            _ = try await Bastion_Echo_V1_EchoClient(transport: connection).get(.init { $0.text = "hi" })
            return nil
        } catch {
            return error
        }
    }

    @Test func adminSocketServesTheAdminServiceOnlyToTheServersUser() async throws {
        let folder = try temporaryFolder("admin")
        defer { try? FileManager.default.removeItem(at: folder) }
        let daemon = try await Daemon.start(in: folder)

        let attributes = try FileManager.default.attributesOfItem(atPath: daemon.adminSocket)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(attributes[.type] as? FileAttributeType == .typeSocket)

        try await daemon.withAdmin { admin in
            let methods = try await admin.listMethods(.init()).message.methods
            let paths = methods.map(\.path)
            #expect(paths == paths.sorted())
            #expect(paths.contains(Self.echoGet))
            #expect(paths.contains(Self.healthCheck))
            #expect(paths.contains(Bastion_Admin_V1_Admin.Method.listMethods.path))

            let echo = try #require(methods.first { $0.path == Self.echoGet })
            #expect(echo.kind == .unary)
            #expect(echo.enabled)
            #expect(echo.operatorCanDisable)
            #expect(echo.policy?.authentication?.caller == .anonymous)
            #expect(echo.policySummary.contains("switchable"))
            let health = try #require(methods.first { $0.path == Self.healthCheck })
            #expect(!health.operatorCanDisable)
            let switchMethod = try #require(
                methods.first { $0.path == Bastion_Admin_V1_Admin.Method.setMethodEnabled.path }
            )
            #expect(switchMethod.policy?.authentication?.caller == .operator)
            #expect(switchMethod.policy?.nonRepudiation?.auditLog == true)
            #expect(switchMethod.policySummary.hasPrefix("operator"))

            let filtered = try await admin.listMethods(.init { $0.pathPrefix = "/bastion.echo.v1." }).message.methods
            #expect(!filtered.isEmpty && filtered.allSatisfy { $0.path.hasPrefix("/bastion.echo.v1.") })

            let info = try await admin.getServerInfo(.init()).message
            #expect(info.adminSocket.hasSuffix("data/admin.sock"))
            #expect(info.tls)
            #expect(info.address == "127.0.0.1:\(daemon.port)")
            #expect(info.metricsAddress.isEmpty)
            #expect(info.version.hasPrefix("bastiond"))
        }

        // The socket routes to the admin service alone.
        let connection = try await BastionClientConnection.connect(unixDomainSocketPath: daemon.adminSocket)
        let refusal = await #expect(throws: RPCError.self) {
            _ = try await Bastion_Echo_V1_EchoClient(transport: connection).get(.init())
        }
        #expect(refusal?.code == .unimplemented)
        await connection.close()

        // A second server on the same data folder does not take the socket over.
        let second = try await #require(throws: RPCError.self) { _ = try await Daemon.start(in: folder) }
        #expect(second.message.contains("another server already answers on the admin socket"), "\(second.message)")
        try await daemon.withAdmin { admin in _ = try await admin.getServerInfo(.init()) }

        try await daemon.stop()
        #expect(daemon.process.terminationStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: daemon.adminSocket))
    }

    @Test func tlsPortAdmitsTheAdminServiceOnlyForOperatorCertificates() async throws {
        let folder = try temporaryFolder("admin-tls")
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = try DevelopmentCertificates.generate(
            directory: folder.appendingPathComponent("data/dev-certs").path
        )
        let fingerprint = try PeerCertificate(pemFile: files.clientCertificate).sha256FingerprintHex
        // As `openssl x509 -noout -fingerprint -sha256` prints it.
        let printed =
            "sha256 Fingerprint="
            + stride(from: 0, to: 64, by: 2).map { offset in
                let start = fingerprint.index(fingerprint.startIndex, offsetBy: offset)
                return fingerprint[start..<fingerprint.index(start, offsetBy: 2)].uppercased()
            }.joined(separator: ":")

        let daemon = try await Daemon.start(in: folder, ["--operator-cert-fingerprint", printed])
        for withCertificate in [false, true] {
            let connection = try await daemon.tlsConnection(withCertificate: withCertificate)
            let admin = Bastion_Admin_V1_AdminClient(transport: connection)
            if withCertificate {
                #expect(try await admin.listMethods(.init()).message.methods.contains { $0.path == Self.echoGet })
                #expect(try await admin.getServerInfo(.init()).message.operatorCertificates == 1)
            } else {
                let refusal = await #expect(throws: RPCError.self) { _ = try await admin.listMethods(.init()) }
                #expect(refusal?.code == .unauthenticated)
                #expect(refusal?.policy == "authentication")
                let switchRefusal = await #expect(throws: RPCError.self) {
                    _ = try await admin.setMethodEnabled(
                        .init {
                            $0.method = Self.echoGet; $0.enabled = false
                        }
                    )
                }
                #expect(switchRefusal?.code == .unauthenticated)
            }
            await connection.close()
        }
        #expect(try await echo(daemon) == nil)
        try await daemon.stop()

        // A certificate from the right CA that is not listed is no operator's.
        let other = try await Daemon.start(
            in: folder,
            ["--operator-cert-fingerprint", String(repeating: "ab", count: 32)]
        )
        let connection = try await other.tlsConnection(withCertificate: true)
        let refusal = await #expect(throws: RPCError.self) {
            _ = try await Bastion_Admin_V1_AdminClient(transport: connection).listMethods(.init())
        }
        #expect(refusal?.code == .unauthenticated)
        await connection.close()
        try await other.stop()
    }

    @Test func configurationFileSetsTheSocketMetricsAndOperators() async throws {
        let folder = try temporaryFolder("admin-config")
        defer { try? FileManager.default.removeItem(at: folder) }
        let socket = folder.appendingPathComponent("ops.sock").path
        let configuration = """
            {"adminSocket": "\(socket)", "metricsPort": 0,
             "operatorCertificateFingerprints": ["\(String(repeating: "0f", count: 32))"]}
            """
        try configuration.write(to: folder.appendingPathComponent("bastiond.json"), atomically: true, encoding: .utf8)
        let daemon = try await Daemon.start(in: folder, ["--config", "bastiond.json"])
        #expect(!FileManager.default.fileExists(atPath: daemon.adminSocket))
        let connection = try await BastionClientConnection.connect(unixDomainSocketPath: socket)
        let info = try await Bastion_Admin_V1_AdminClient(transport: connection).getServerInfo(.init()).message
        await connection.close()
        #expect(info.adminSocket == socket)
        #expect(info.metricsAddress.hasPrefix("http://127.0.0.1:"))
        #expect(info.operatorCertificates == 1)
        try await daemon.stop()

        let refused = try await #require(throws: RPCError.self) {
            _ = try await Daemon.start(in: folder, ["--operator-cert-fingerprint", "not-a-fingerprint"])
        }
        #expect(refused.message.contains("is not a SHA-256 certificate fingerprint"), "\(refused.message)")
    }

    @Test func switchesPersistAcrossRestarts() async throws {
        let folder = try temporaryFolder("admin-switch")
        defer { try? FileManager.default.removeItem(at: folder) }
        let daemon = try await Daemon.start(in: folder)
        #expect(try await echo(daemon) == nil)
        try await daemon.withAdmin { admin in
            let status = try await admin.setMethodEnabled(
                .init {
                    $0.method = Self.echoGet; $0.enabled = false
                }
            ).message
            #expect(status.path == Self.echoGet)
            #expect(!status.enabled)

            let alwaysOn = await #expect(throws: RPCError.self) {
                _ = try await admin.setMethodEnabled(
                    .init {
                        $0.method = Self.healthCheck; $0.enabled = false
                    }
                )
            }
            #expect(alwaysOn?.code == .failedPrecondition)
            let unknown = await #expect(throws: RPCError.self) {
                _ = try await admin.setMethodEnabled(
                    .init {
                        $0.method = "/no.such.Service/Method"; $0.enabled = false
                    }
                )
            }
            #expect(unknown?.code == .notFound)
            let noProofOfWork = await #expect(throws: RPCError.self) {
                _ = try await admin.setProofOfWorkDifficulty(
                    .init {
                        $0.method = Self.echoGet; $0.difficulty = 8
                    }
                )
            }
            #expect(noProofOfWork?.code == .failedPrecondition)
        }
        let refusal = try await echo(daemon)
        #expect(refusal?.code == .unavailable)
        #expect(refusal?.policy == "availability")
        try await daemon.stop()

        let restarted = try await Daemon.start(in: folder)
        try await restarted.withAdmin { admin in
            let echo = try #require(
                try await admin.listMethods(.init()).message.methods.first { $0.path == Self.echoGet }
            )
            #expect(!echo.enabled)
        }
        #expect(try await echo(restarted)?.code == .unavailable)
        try await restarted.withAdmin { admin in
            let status = try await admin.setMethodEnabled(
                .init {
                    $0.method = Self.echoGet; $0.enabled = true
                }
            ).message
            #expect(status.enabled)
        }
        #expect(try await echo(restarted) == nil)
        try await restarted.stop()
    }

    @Test func operatorActionsAreAuditedAndTheChainVerifies() async throws {
        let folder = try temporaryFolder("admin-audit")
        defer { try? FileManager.default.removeItem(at: folder) }
        let daemon = try await Daemon.start(in: folder)
        try await daemon.withAdmin { admin in
            #expect(try await admin.verifyAuditLog(.init()).message.entries == 0)
            for enabled in [false, true, false] {
                _ = try await admin.setMethodEnabled(
                    .init {
                        $0.method = Self.echoGet; $0.enabled = enabled
                    }
                )
            }
            // Refused switches are audited too, with their status.
            _ = try? await admin.setMethodEnabled(
                .init {
                    $0.method = Self.healthCheck; $0.enabled = false
                }
            )
            _ = try await admin.listMethods(.init())  // reads are not audited
        }
        // The audit log is written after the call's answer; wait until the last entry is there.
        var entries: [Bastion_Policy_V1_AuditEntry] = []
        for _ in 0..<200 {
            entries = try await daemon.withAdmin { admin in try await admin.listAuditEntries(.init()).message.entries }
            if entries.count >= 4 { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(entries.map(\.sequence) == [1, 2, 3, 4])
        #expect(entries.allSatisfy { $0.method == Bastion_Admin_V1_Admin.Method.setMethodEnabled.path })
        #expect(entries.allSatisfy { $0.principal.hasPrefix("operator:") && $0.peer.hasPrefix("unix:") }, "\(entries)")
        #expect(entries.map(\.statusCode) == [0, 0, 0, UInt32(RPCError.Code.failedPrecondition.rawValue)])
        try await daemon.withAdmin { admin in
            let verification = try await admin.verifyAuditLog(.init()).message
            #expect(verification.intact)
            #expect(verification.entries == 4)
            #expect(verification.firstBrokenSequence == nil)
            #expect(verification.headSequence == 4)
            #expect(verification.headHash == entries.last?.hash)

            let page = try await admin.listAuditEntries(
                .init {
                    $0.fromSequence = 2; $0.limit = 2
                }
            ).message
            #expect(page.entries.map(\.sequence) == [2, 3])
            #expect(page.nextSequence == 4)
            #expect(try await admin.listAuditEntries(.init { $0.fromSequence = 4 }).message.nextSequence == nil)
        }

        let verify = try await daemon.bastion(["audit", "verify"])
        #expect(verify.status == 0, "\(verify.errors)")
        let hex = entries.last?.hash.map { String(format: "%02x", $0) }.joined() ?? "?"
        #expect(verify.output == "audit log intact: 4 entries; head: entry 4, sha256 \(hex)\n", "\(verify.output)")

        let show = try await daemon.bastion(["audit", "show", "--limit", "3"])
        #expect(show.status == 0, "\(show.errors)")
        #expect(show.output.split(separator: "\n").count == 5, "\(show.output)")  // header, 3 rows, "more: …"
        #expect(show.output.contains("FAILED_PRECONDITION") == false)
        let first = entries.first?.hash.map { String(format: "%02x", $0) }.joined() ?? "?"
        #expect(show.output.split(separator: "\n").dropFirst().first?.hasSuffix(first) == true, "\(show.output)")
        #expect(show.output.hasSuffix("more: bastion audit show --from 4\n"), "\(show.output)")
        try await daemon.stop()

        // Someone with write access to the store changes entry 2's outcome.
        let store = try Store(path: daemon.dataFolder.appendingPathComponent("store").path, logger: testLogger)
        let log = Table<UInt64, Bastion_Policy_V1_AuditEntry>("audit.log")
        try store.withWriteTransactionBlocking { txn in
            var entry = try #require(try txn.get(log, 2))
            entry.statusCode = 7
            try txn.put(log, 2, entry)
        }
        try await store.close()

        let tampered = try await Daemon.start(in: folder)
        try await tampered.withAdmin { admin in
            let verification = try await admin.verifyAuditLog(.init()).message
            #expect(!verification.intact)
            #expect(verification.firstBrokenSequence == 2)
            #expect(!verification.problem.isEmpty)
            #expect(verification.headHash.isEmpty)
        }
        let broken = try await tampered.bastion(["audit", "verify"])
        #expect(broken.status == 1)
        #expect(broken.errors.hasPrefix("bastion: audit log broken at entry 2 "), "\(broken.errors)")
        try await tampered.stop()
    }

    @Test func backupWritesANewFolderAndRefusesToOverwrite() async throws {
        let folder = try temporaryFolder("admin-backup")
        defer { try? FileManager.default.removeItem(at: folder) }
        let daemon = try await Daemon.start(in: folder)
        let target = folder.appendingPathComponent("backups/first").path
        try await daemon.withAdmin { admin in
            let relative = await #expect(throws: RPCError.self) {
                _ = try await admin.backup(.init { $0.path = "relative/folder" })
            }
            #expect(relative?.code == .invalidArgument)

            let result = try await admin.backup(.init { $0.path = target }).message
            #expect(result.path == target)
            #expect(result.bytes > 0)
            #expect(FileManager.default.fileExists(atPath: target + "/data.mdb"))

            let again = await #expect(throws: RPCError.self) { _ = try await admin.backup(.init { $0.path = target }) }
            #expect(again?.code == .alreadyExists)
        }
        try await daemon.stop()
    }

    @Test func metricsEndpointCountsCallsAndDenials() async throws {
        let folder = try temporaryFolder("admin-metrics")
        defer { try? FileManager.default.removeItem(at: folder) }
        let daemon = try await Daemon.start(in: folder, ["--metrics-port", "0"])
        let address = try await daemon.withAdmin { admin in
            try await admin.getServerInfo(.init()).message.metricsAddress
        }
        // http://127.0.0.1:PORT/metrics
        let port = try #require(
            address.split(separator: ":").last?.split(separator: "/").first.flatMap { Int($0) },
            "\(address)"
        )
        #expect(address == "http://127.0.0.1:\(port)/metrics")

        let ok = ["method": Self.echoGet, "code": "OK"]
        let denied = ["method": Self.echoGet, "policy": "availability", "code": "UNAVAILABLE"]
        let before = MetricsText(try await HTTPTestClient.request(port: port, path: "/metrics").body)
        #expect(before.value("bastion_rpc_denials_total", denied) == nil)
        for _ in 0..<3 { #expect(try await echo(daemon) == nil) }
        try await daemon.withAdmin { admin in
            _ = try await admin.setMethodEnabled(
                .init {
                    $0.method = Self.echoGet; $0.enabled = false
                }
            )
        }
        #expect(try await echo(daemon)?.code == .unavailable)

        // A call is recorded when its interceptors unwind, just after the client has its answer:
        // scrape until the last calls are in.
        let switches = ["method": Bastion_Admin_V1_Admin.Method.setMethodEnabled.path, "code": "OK"]
        var after = MetricsText("")
        for _ in 0..<200 {
            let response = try await HTTPTestClient.request(port: port, path: "/metrics")
            #expect(response.status == 200)
            after = MetricsText(response.body)
            if after.value("bastion_rpc_call_duration_seconds_count", ["method": Self.echoGet]) == 4,
                after.value("bastion_rpc_calls_total", switches) != nil
            {
                break
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(after.value("bastion_rpc_calls_total", ok) == (before.value("bastion_rpc_calls_total", ok) ?? 0) + 3)
        #expect(after.value("bastion_rpc_calls_total", ["method": Self.echoGet, "code": "UNAVAILABLE"]) == 1)
        #expect(after.value("bastion_rpc_denials_total", denied) == 1)
        #expect(after.value("bastion_rpc_call_duration_seconds_count", ["method": Self.echoGet]) == 4)
        #expect(after.value("bastion_rpc_calls_in_flight", ["method": Self.echoGet]) == 0)
        // The admin service's own calls are counted too.
        #expect(after.value("bastion_rpc_calls_total", switches) == 1)
        try await daemon.stop()
    }

    @Test func adminCommandDrivesTheServer() async throws {
        let folder = try temporaryFolder("admin-cli")
        defer { try? FileManager.default.removeItem(at: folder) }
        let daemon = try await Daemon.start(in: folder)

        let methods = try await daemon.bastion(["admin", "methods"])
        #expect(methods.status == 0, "\(methods.errors)")
        let lines = methods.output.split(separator: "\n")
        #expect(lines.first?.hasPrefix("METHOD") == true, "\(methods.output)")
        #expect(lines.contains { $0.hasPrefix(Self.echoGet) && $0.contains(" on ") }, "\(methods.output)")

        let disable = try await daemon.bastion(["admin", "disable", Self.echoGet])
        #expect(disable.status == 0, "\(disable.errors)")
        #expect(disable.output == "\(Self.echoGet): disabled\n")
        let listed = try await daemon.bastion([
            "admin", "--socket", daemon.adminSocket, "methods", "--prefix", "/bastion.echo.v1.Echo/Get",
        ])
        #expect(
            listed.output.split(separator: "\n").dropFirst().allSatisfy { $0.contains(" OFF ") },
            "\(listed.output)"
        )
        #expect(try await echo(daemon)?.code == .unavailable)

        let refused = try await daemon.bastion(["admin", "disable", Self.healthCheck])
        #expect(refused.status == 2)
        #expect(refused.errors.contains("FAILED_PRECONDITION"), "\(refused.errors)")

        let enable = try await daemon.bastion(["admin", "enable", Self.echoGet])
        #expect(enable.output == "\(Self.echoGet): enabled\n")

        let audit = try await daemon.bastion(["audit", "verify"])
        #expect(audit.status == 0, "\(audit.errors)")
        #expect(audit.output.hasPrefix("audit log intact"), "\(audit.output)")

        let backup = try await daemon.bastion(["admin", "backup", "copy"])
        #expect(backup.status == 0, "\(backup.errors)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("copy/data.mdb").path))
        let again = try await daemon.bastion(["admin", "backup", "copy"])
        #expect(again.status == 2)
        #expect(again.errors.contains("ALREADY_EXISTS"), "\(again.errors)")

        let info = try await daemon.bastion(["admin", "info"])
        #expect(info.output.contains("127.0.0.1:\(daemon.port) (TLS)"), "\(info.output)")

        // Without an operator certificate the TLS port refuses, and says what to do.
        let overTLS = try await daemon.bastion([
            "admin", "--port", "\(daemon.port)", "--ca", daemon.certificates.caCertificate, "methods",
        ])
        #expect(overTLS.status == 2)
        #expect(overTLS.errors.contains("UNAUTHENTICATED") && overTLS.errors.contains("--cert"), "\(overTLS.errors)")

        let noSocket = try await daemon.bastion([
            "admin", "--socket", folder.appendingPathComponent("none.sock").path, "methods",
        ])
        #expect(noSocket.status == 3)
        #expect(noSocket.errors.contains("there is no admin socket"), "\(noSocket.errors)")
        try await daemon.stop()
    }
}
