import BastionProtobuf
import BastionPolicy

/// How channel codes are made, checked and re-sent.
///
/// A code is `digits` decimal digits derived from a random seed under the channel-code key (a
/// subkey of the factor key): HMAC-SHA256(key, seed), its first 8 bytes as a big-endian integer,
/// modulo 10^digits (the bias is below 10^-8). The store keeps the seed and a keyed hash of the
/// code, never the code: a copy of the store without the factor key yields neither.
///
/// Re-sending within the retransmission period sends the same code (derived again from the
/// seed) and changes nothing else; afterwards, or once the code expired, a new seed makes a new
/// code. Neither touches the attempt counters: re-sending never grants fresh guesses.
enum ChannelCodes {
    static let codeKeyLabel = "bastion-channel-code-v1"
    static let hashKeyLabel = "bastion-channel-code-hash-v1"
    static let seedLength = 16

    /// The code a seed stands for.
    static func code(seed: [UInt8], digits: Int, key: FactorKey) -> String {
        let mac = HMAC.sha256(key: key.subkey(codeKeyLabel), message: seed)
        let value = mac.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        var modulus: UInt64 = 1
        for _ in 0..<digits { modulus *= 10 }
        let number = String(value % modulus)
        return String(repeating: "0", count: digits - number.count) + number
    }

    /// The stored form of a code sent for `purpose` (a challenge id, or "enroll") through `factor`.
    static func hash(code: String, purpose: String, factor: String, key: FactorKey) -> [UInt8] {
        HMAC.sha256(
            key: key.subkey(hashKeyLabel),
            message: Array(purpose.utf8) + [0] + Array(factor.utf8) + [0] + Array(code.utf8)
        )
    }

    /// The digits of a typed code: white space and dashes removed, the prefix (any case)
    /// optional; nil when what is left is not `digits` digits.
    static func normalize(_ typed: String, prefix: String, digits: Int) -> String? {
        guard typed.utf8.count <= 64 else { return nil }
        // Dashes and white space go first, from the code and the prefix alike ("B-1234-5678",
        // "b 12345678" and "B12345678" are one code).
        var text = typed.uppercased().filter { !$0.isWhitespace && $0 != "-" }
        let compactPrefix = prefix.uppercased().filter { !$0.isWhitespace && $0 != "-" }
        if !compactPrefix.isEmpty, text.hasPrefix(compactPrefix) { text.removeFirst(compactPrefix.count) }
        guard text.count == digits, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { return nil }
        return text
    }

    /// What a send does: keep the current code (inside its retransmission period and not
    /// expired) or make the next one. `cap` bounds the expiry (the challenge's or enrollment's).
    static func next(
        after current: Bastion_Auth_V1_ChannelCodeRecord?,
        factor: String,
        purpose: String,
        now: Int64,
        cap: Int64,
        settings: CodeChannels,
        key: FactorKey
    ) throws -> (record: Bastion_Auth_V1_ChannelCodeRecord, code: String, isNew: Bool) {
        if let current, now < current.sameCodeUntilUnixMillis, now < current.expiresUnixMillis {
            var record = current
            record.sends += 1
            return (record, code(seed: current.seed, digits: settings.codeDigits, key: key), false)
        }
        let seed = try Random.bytes(seedLength)
        let code = code(seed: seed, digits: settings.codeDigits, key: key)
        let record = Bastion_Auth_V1_ChannelCodeRecord {
            $0.factorId = factor
            $0.seed = seed
            $0.codeHash = hash(code: code, purpose: purpose, factor: factor, key: key)
            $0.generation = (current?.generation ?? 0) + 1
            $0.createdUnixMillis = now
            $0.sameCodeUntilUnixMillis = min(now + settings.retransmissionPeriod.milliseconds, cap)
            $0.expiresUnixMillis = min(now + settings.codeLifetime.milliseconds, cap)
            $0.sends = 1
        }
        return (record, code, true)
    }

    enum Check: Equatable { case accepted, wrong, expired, notSent }

    /// Checks a typed code against the code sent for `purpose`.
    static func check(
        _ typed: String,
        against record: Bastion_Auth_V1_ChannelCodeRecord?,
        purpose: String,
        now: Int64,
        settings: CodeChannels,
        key: FactorKey
    ) -> Check {
        guard let record, !record.codeHash.isEmpty else { return .notSent }
        guard now < record.expiresUnixMillis else { return .expired }
        guard let digits = normalize(typed, prefix: settings.codePrefix, digits: settings.codeDigits) else {
            return .wrong
        }
        let hash = hash(code: digits, purpose: purpose, factor: record.factorId, key: key)
        return constantTimeEquals(hash, record.codeHash) ? .accepted : .wrong
    }

    /// The address as its owner sees it in lists: the first characters and the end, the rest
    /// hidden; for mail addresses the first character and the domain.
    static func hint(for address: String) -> String {
        let firstLine = address.split(whereSeparator: \.isNewline).first.map(String.init) ?? address
        if let at = firstLine.lastIndex(of: "@"), at != firstLine.startIndex {
            return "\(firstLine.first!)***\(firstLine[at...])"
        }
        let characters = Array(firstLine)
        guard characters.count > 4 else { return "***" }
        let shown = min(3, characters.count / 4)
        return String(characters.prefix(shown)) + "***" + String(characters.suffix(2))
    }

    /// Nil when the address is acceptable, else why not.
    static func problem(with address: String) -> String? {
        guard !address.isEmpty, address.utf8.count <= 256 else { return "address: 1 to 256 bytes" }
        guard address.trimmingWhitespace == address else {
            return "address: no white space at the start or end"
        }
        guard !address.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" })
        else {
            return "address: no control characters (line breaks are allowed for postal addresses)"
        }
        guard !address.hasPrefix("-") else { return "address: must not start with '-'" }
        return nil
    }

    /// The message a channel carries.
    static func message(code: String, for purpose: String, settings: CodeChannels, lifetime: Duration) -> String {
        let minutes = max(1, Int(lifetime.components.seconds / 60))
        return """
            \(settings.serviceName) code: \(settings.codePrefix)\(code)
            For: \(displayable(purpose))
            It expires in \(minutes) minute\(minutes == 1 ? "" : "s"). If you did not ask for it, ignore this message.

            """
    }
}

extension ChannelCodes {
    /// What a message may say about the operation: the method path comes from the client, so
    /// only letters, digits and `. _ / : @ -` and spaces pass, at most 128 of them; anything else
    /// makes it "an operation" (no line breaks or text smuggled into the user's message).
    static func displayable(_ purpose: String) -> String {
        let allowed = purpose.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII
                && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || " ._/:@-".unicodeScalars.contains(scalar))
        }
        return allowed && !purpose.isEmpty && purpose.count <= 128 ? purpose : "an operation"
    }
}

extension Duration {
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}

extension String {
    var trimmingWhitespace: Substring { self[...].drop(while: \.isWhitespace).dropLastWhile(\.isWhitespace) }
}

extension Substring {
    func dropLastWhile(_ predicate: (Character) -> Bool) -> Substring {
        var end = endIndex
        while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
        return self[startIndex..<end]
    }
}
