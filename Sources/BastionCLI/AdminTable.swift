import BastionAdmin
import BastionRPC
import Foundation

/// Plain-text tables for `bastion admin`.
enum AdminTable {
    /// Columns padded to their widest cell, two spaces apart; the last column is not padded.
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for row in all {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        var text = ""
        for row in all {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }
            text += cells.joined(separator: "  ") + "\n"
        }
        return text
    }

    static func methods(_ methods: [Bastion_Admin_V1_MethodStatus]) -> String {
        let rows = methods.map { method -> [String] in
            let counters = method.counters ?? Bastion_Admin_V1_MethodCounters()
            let denials = counters.denials.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            return [
                method.path,
                method.enabled ? "on" : "OFF",
                method.proofOfWorkDifficulty.map(String.init) ?? "-",
                "\(counters.admitted)",
                "\(counters.inFlight)",
                denials.isEmpty ? "0" : denials.joined(separator: " "),
                method.policySummary,
            ]
        }
        return render(["METHOD", "STATE", "POW", "ADMITTED", "IN FLIGHT", "DENIED", "POLICY"], rows)
    }

    static func info(_ info: Bastion_Admin_V1_ServerInfo) -> String {
        let started = Date(timeIntervalSince1970: Double(info.startedAtMillis) / 1000)
        return render(
            ["SETTING", "VALUE"],
            [
                ["version", info.version],
                ["started", started.formatted(.iso8601)],
                ["address", info.address + (info.tls ? " (TLS)" : " (plaintext)")],
                ["admin socket", info.adminSocket.isEmpty ? "none" : info.adminSocket],
                ["metrics", info.metricsAddress.isEmpty ? "off" : info.metricsAddress],
                ["store", info.storePath],
                ["operator certificates", "\(info.operatorCertificates)"],
            ]
        )
    }

    static func auditEntries(_ entries: [Bastion_Policy_V1_AuditEntry]) -> String {
        let rows = entries.map { entry -> [String] in
            let time = Date(timeIntervalSince1970: Double(entry.unixNanos) / 1e9)
            let code = entry.statusCode == 0 ? "OK" : RPCError.Code(rawValue: Int(entry.statusCode)).description
            return [
                "\(entry.sequence)",
                time.formatted(.iso8601),
                entry.method,
                code,
                entry.principal.isEmpty ? "-" : entry.principal,
                entry.peer,
                hex(entry.hash),
            ]
        }
        return render(["SEQ", "TIME", "METHOD", "STATUS", "PRINCIPAL", "PEER", "SHA256"], rows)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func bytes(_ count: UInt64) -> String {
        count < 1 << 20 ? "\(count) bytes" : String(format: "%.1f MiB", Double(count) / Double(1 << 20))
    }
}
