/// The parsers of what users type for second factors (channel codes, access codes, addresses,
/// security answers, the challenge detail), run on one input with their invariants checked: the
/// fuzz target FuzzSecondFactorInput calls this with every input, and ChannelCodeTests with
/// hand-picked ones. A broken invariant traps.
@_spi(Fuzzing)
public enum SecondFactorInputs {
    public static func check(_ text: String) {
        // Channel codes: nil, or exactly the digits, stable when typed again with the prefix.
        for (prefix, digits) in [("B-", 8), ("", 6), ("ABC ", 10)] {
            if let code = ChannelCodes.normalize(text, prefix: prefix, digits: digits) {
                precondition(code.count == digits && code.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 })
                precondition(ChannelCodes.normalize(prefix + code, prefix: prefix, digits: digits) == code)
                precondition(ChannelCodes.normalize(code, prefix: prefix, digits: digits) == code)
            }
        }
        // Access codes: nil, or 6 to 10 digits.
        if let code = AccessCodes.normalize(text) {
            precondition((6...10).contains(code.count) && code.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 })
        }
        _ = AccessCodes.isValidScope(text)
        // Addresses: accepted ones are bounded and their hint hides the middle.
        if ChannelCodes.problem(with: text) == nil {
            precondition(!text.isEmpty && text.utf8.count <= 256)
            let hint = ChannelCodes.hint(for: text)
            precondition(hint.contains("***"))
        }
        // Security answers: no white space at the ends, none doubled (per scalar), and normalising
        // again changes nothing.
        let answer = SecurityQuestions.normalize(text)
        let scalars = Array(answer.unicodeScalars)
        precondition(scalars.first?.properties.isWhitespace != true && scalars.last?.properties.isWhitespace != true)
        precondition(!zip(scalars, scalars.dropFirst()).contains { $0.properties.isWhitespace && $1.properties.isWhitespace })
        precondition(SecurityQuestions.normalize(answer) == answer)
        // The challenge detail: what parses prints back to something that parses the same.
        if let challenge = SecondFactorChallenge(text) {
            precondition(SecondFactorChallenge(challenge.description) == challenge)
        }
    }
}
