/// Accumulates generated source text with indentation.
struct CodePrinter {
    private(set) var text = ""
    private var indentation = ""

    mutating func line(_ content: String = "") {
        if content.isEmpty {
            text += "\n"
        } else {
            text += indentation + content + "\n"
        }
    }

    /// Prints `header {`, the body one level deeper, then `}`. A header that opens a closure
    /// (`… in`) already holds its brace.
    mutating func block<Failure: Error>(
        _ header: String,
        _ body: (inout CodePrinter) throws(Failure) -> Void
    ) throws(Failure) {
        line(header.hasSuffix(" in") ? header : header + " {")
        indent()
        try body(&self)
        outdent()
        line("}")
    }

    /// Prints a `switch` whose `case` labels stay at the switch's level, as swift-format has them.
    mutating func switchBlock(_ subject: String, _ body: (inout CodePrinter) -> Void) {
        line("switch \(subject) {")
        body(&self)
        line("}")
    }

    /// A `case` label followed by its body one level deeper.
    mutating func caseLabel(_ label: String, _ body: (inout CodePrinter) -> Void) {
        line(label)
        indent()
        body(&self)
        outdent()
    }

    mutating func indent() { indentation += "    " }

    mutating func outdent() { indentation.removeLast(4) }

    /// Prints `///` documentation from a .proto comment, one line each.
    mutating func documentation(_ comment: String?) {
        guard let comment else { return }
        var lines = comment.split(separator: "\n", omittingEmptySubsequences: false).map {
            String($0).trimmingTrailingWhitespace()
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        while lines.first?.isEmpty == true { lines.removeFirst() }
        for text in lines {
            line(text.isEmpty ? "///" : "///" + (text.hasPrefix(" ") ? text : " " + text))
        }
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var result = self
        while let last = result.last, last == " " || last == "\t" || last == "\r" { result.removeLast() }
        return result
    }
}
