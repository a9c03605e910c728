/// A failure inside the identity service that is not the caller's fault.
struct IdentityError: Error, CustomStringConvertible {
    enum Code { case `internal`, invalidInput }

    var code: Code
    var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    var description: String { message }
}
