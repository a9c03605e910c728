// The hand-written walks of the fuzz schema, one per message, field by field in .proto order.

extension Bastion_Fuzz_V1_Leaf: FactsProviding {
    var facts: MessageFacts {
        var facts = MessageFacts(unknownFields: unknownFields)
        facts.require(value)
        return facts
    }
}

extension Bastion_Fuzz_V1_Fuzz2: FactsProviding {
    var facts: MessageFacts {
        var facts = MessageFacts(unknownFields: unknownFields)
        facts.require(id)
        facts.note(oFloat)
        facts.note(oDouble)
        facts.note(rFloatPacked)
        facts.note(rDouble)
        facts.include(optgroup)
        facts.include(repgroup)
        facts.include(child)
        facts.include(children)
        facts.include(leaf)
        facts.include(leaves)
        facts.includeMap(mInt32Enum)
        facts.includeMap(mStringLeaf)
        facts.includeMap(mUint64Self)
        facts.includeMap(mBoolBytes)
        facts.includeMap(mSfixed32Float)
        facts.note(mSfixed32Float.values)
        switch choice {
        case .cLeaf(let value)?: facts.include(value)
        case .cSelf(let value)?: facts.include(value)
        case .cgroup(let value)?: facts.include(value)
        case .cDouble(let value)?: facts.note(value)
        case .cInt32?, .cString?, .cEnum?, .cBytes?, nil: break
        }
        return facts
    }
}

extension Bastion_Fuzz_V1_Fuzz2.OptGroup: FactsProviding {
    var facts: MessageFacts {
        var facts = MessageFacts(unknownFields: unknownFields)
        facts.require(key)
        facts.include(nested)
        return facts
    }
}

extension Bastion_Fuzz_V1_Fuzz2.RepGroup: FactsProviding {
    var facts: MessageFacts {
        var facts = MessageFacts(unknownFields: unknownFields)
        facts.include(leaf)
        return facts
    }
}

extension Bastion_Fuzz_V1_Fuzz2.CGroup: FactsProviding {
    var facts: MessageFacts {
        var facts = MessageFacts(unknownFields: unknownFields)
        facts.include(leaf)
        return facts
    }
}

extension Bastion_Fuzz_V1_Fuzz3: FactsProviding {
    var facts: MessageFacts {
        var facts = MessageFacts(unknownFields: unknownFields)
        facts.note(fFloat)
        facts.note(fDouble)
        facts.note(oDouble)
        facts.include(oNested)
        facts.note(rFloat)
        facts.note(rDouble)
        facts.include(rNested)
        facts.include(recursive)
        facts.include(children)
        facts.include(nested)
        facts.include(legacy)
        facts.include(legacies)
        facts.include(leaf)
        facts.includeMap(mInt32Int32)
        facts.includeMap(mInt64String)
        facts.includeMap(mUint32Bytes)
        facts.includeMap(mStringEnum)
        facts.includeMap(mBoolNested)
        facts.includeMap(mSint64Self)
        facts.includeMap(mFixed32Legacy)
        facts.includeMap(mSfixed64Double)
        facts.note(mSfixed64Double.values)
        facts.includeMap(mStringFloat)
        facts.note(mStringFloat.values)
        facts.includeMap(mUint64Leaf)
        switch choice {
        case .cNested(let value)?: facts.include(value)
        case .cSelf(let value)?: facts.include(value)
        case .cLegacy(let value)?: facts.include(value)
        case .cFloat(let value)?: facts.note(value)
        case .cInt32?, .cString?, .cBytes?, .cEnum?, nil: break
        }
        return facts
    }
}

extension Bastion_Fuzz_V1_Fuzz3.Nested: FactsProviding {
    var facts: MessageFacts {
        var facts = MessageFacts(unknownFields: unknownFields)
        facts.include(children)
        return facts
    }
}
