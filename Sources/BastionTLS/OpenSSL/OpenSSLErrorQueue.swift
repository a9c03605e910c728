import COpenSSL

/// The calling thread's OpenSSL error queue, read once and emptied.
///
/// OpenSSL records why an operation failed on a per-thread queue. Every failure path drains it,
/// so a stale entry never leaks into the next connection served on the same event loop.
struct OpenSSLErrorQueue {
    /// One queued error: its packed code and its text.
    struct Entry {
        var code: UInt
        var text: String

        var library: Int32 { copenssl_err_get_lib(self.code) }
        var reason: Int32 { copenssl_err_get_reason(self.code) }
        var isSSLLibrary: Bool { self.library == copenssl_err_lib_ssl() }
    }

    private(set) var entries: [Entry] = []

    /// Reads and clears the queue.
    static func drain() -> Self {
        var queue = Self()
        while true {
            var data: UnsafePointer<CChar>? = nil
            var flags: Int32 = 0
            let code = ERR_get_error_all(nil, nil, nil, &data, &flags)
            if code == 0 { break }
            var text = Self.string(for: code)
            if let data, flags & ERR_TXT_STRING != 0 {
                let extra = String(cString: data)
                if !extra.isEmpty { text += " (\(extra))" }
            }
            queue.entries.append(Entry(code: code, text: text))
        }
        return queue
    }

    /// Empties the queue without reading it, before an operation whose failure is then read
    /// with `SSL_get_error` (which needs an empty queue to answer reliably).
    /// Peeking first is cheaper than clearing: the queue is empty on nearly every call.
    @inline(__always)
    static func clear() {
        if ERR_peek_error() != 0 {
            ERR_clear_error()
        }
    }

    /// OpenSSL's text for one packed error code.
    static func string(for code: UInt) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
            ERR_error_string_n(code, buffer.baseAddress, buffer.count)
            return String(cString: buffer.baseAddress!)
        }
    }

    /// Whether any entry is an `ERR_LIB_SSL` error with one of these reasons.
    func contains(sslReasons reasons: Int32...) -> Bool {
        self.entries.contains { $0.isSSLLibrary && reasons.contains($0.reason) }
    }

    /// The entries' texts joined, or nil when the queue was empty.
    var text: String? {
        self.entries.isEmpty ? nil : self.entries.map(\.text).joined(separator: "; ")
    }

    /// A message followed by OpenSSL's text, if there was any.
    func message(_ prefix: String) -> String {
        if let text = self.text {
            return "\(prefix): \(text)"
        }
        return prefix
    }

    /// A `configurationInvalid` error naming what failed and why OpenSSL said it did.
    static func configurationError(_ what: String) -> TLSError {
        TLSError(code: .configurationInvalid, message: Self.drain().message(what))
    }
}
