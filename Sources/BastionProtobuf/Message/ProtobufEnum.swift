/// A generated protobuf enum.
///
/// Enums declared in proto3 files are open: a value this program does not know is kept as
/// `.unrecognized(value)` and written back. Enums from proto2 files are closed: an unknown value
/// never reaches the field, it is kept among the message's unknown fields instead.
public protocol ProtobufEnum: RawRepresentable, Hashable, Sendable where RawValue == Int32 {
    /// The enum's first declared value, which protobuf uses as the default.
    init()
    /// Whether unknown values are rejected into unknown fields (proto2) rather than kept.
    static var isClosed: Bool { get }
}
