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

    /// Prints `header {`, the body one level deeper, then `}` (or `closing`).
    mutating func block<Failure: Error>(
        _ header: String,
        closing: String = "}",
        _ body: (inout CodePrinter) throws(Failure) -> Void
    ) throws(Failure) {
        line(header + " {")
        indent()
        try body(&self)
        outdent()
        line(closing)
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
