/// A problem with the input that stops generation. protoc prints ``description`` to the user.
public struct GeneratorError: Error, CustomStringConvertible, Sendable {
    /// The `.proto` file concerned, if any.
    public var file: String?
    /// The message, field, enum, service or option concerned, if any.
    public var element: String?
    public var message: String

    public init(file: String? = nil, element: String? = nil, _ message: String) {
        self.file = file
        self.element = element
        self.message = message
    }

    public var description: String {
        var location = [file, element].compactMap { $0 }.joined(separator: ": ")
        if !location.isEmpty { location += ": " }
        return location + message
    }
}
