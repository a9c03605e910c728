import BastionProtobuf

/// What the oracle needs to know of a decoded message beyond what the runtime reports, found by a
/// walk of the fuzz schema written by hand, so that it does not share the generator's mistakes.
///
/// Keep the walks in `MessageFacts+Schema.swift` in step with `bastion/fuzz/v1/*.proto`: a field
/// the walk misses weakens the checks of that field, it never makes them fail.
struct MessageFacts {
    /// Every proto2 `required` field in the tree is set.
    var requiredFieldsPresent = true
    /// Some message in the tree kept unknown fields.
    var hasUnknownFields = false
    /// Some float or double in the tree is a NaN, which makes equal messages compare unequal.
    var hasNaN = false
    /// Levels below this message, as the reader counts them: each sub-message, group and map entry
    /// is one level, so a message-valued map entry's value is two.
    var depth = 0

    init(unknownFields: ProtobufUnknownFields) {
        hasUnknownFields = !unknownFields.isEmpty
    }

    mutating func require(_ value: (some Any)?) {
        if value == nil { requiredFieldsPresent = false }
    }

    mutating func note(_ value: some BinaryFloatingPoint) {
        if value.isNaN { hasNaN = true }
    }

    mutating func note(_ value: (some BinaryFloatingPoint)?) {
        if let value { note(value) }
    }

    mutating func note(_ values: some Sequence<some BinaryFloatingPoint>) {
        for value in values { note(value) }
    }

    /// A sub-message, group or message map value, `levels` below this message.
    mutating func include(_ child: (some FactsProviding)?, levels: Int = 1) {
        guard let child else { return }
        let facts = child.facts
        requiredFieldsPresent = requiredFieldsPresent && facts.requiredFieldsPresent
        hasUnknownFields = hasUnknownFields || facts.hasUnknownFields
        hasNaN = hasNaN || facts.hasNaN
        depth = max(depth, facts.depth + levels)
    }

    mutating func include(_ children: some Sequence<some FactsProviding>, levels: Int = 1) {
        for child in children { include(child, levels: levels) }
    }

    /// A map field: each entry is a level of its own.
    mutating func includeMap<Key, Value>(_ map: [Key: Value]) {
        if !map.isEmpty { depth = max(depth, 1) }
    }

    /// A map field whose values are messages, two levels down. An entry without a value holds an
    /// empty message that the reader never entered, so an empty value counts one level only.
    mutating func includeMap<Key, Value: FactsProviding & ProtobufMessage>(_ map: [Key: Value]) {
        if !map.isEmpty { depth = max(depth, 1) }
        for value in map.values {
            include(value, levels: value == Value() ? 1 : 2)
        }
    }
}

/// A message of the fuzz schema, walked by hand.
protocol FactsProviding {
    var facts: MessageFacts { get }
}
