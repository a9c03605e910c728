import BastionProtobuf

/// A small seeded generator (SplitMix64), so a failing round trip can be replayed by its seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random values biased towards the edges (0, ±1, extremes) where codecs break.
struct RandomValues {
    var rng: SeededGenerator

    mutating func chance(_ probability: Double = 0.6) -> Bool { Double.random(in: 0..<1, using: &rng) < probability }

    mutating func integer<T: FixedWidthInteger>(_: T.Type = T.self) -> T {
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: [T.min, T.max, 0, 1].randomElement(using: &rng)!
        case 1, 2: T(truncatingIfNeeded: Int.random(in: -300...300, using: &rng))
        default: T.random(in: T.min...T.max, using: &rng)
        }
    }

    mutating func double() -> Double {
        [0, -0.0, 1e300, -2.5, .infinity, -.infinity, .leastNonzeroMagnitude, Double.random(in: -1e12...1e12, using: &rng)]
            .randomElement(using: &rng)!
    }

    mutating func float() -> Float {
        [0, -0.0, 1.5, .infinity, .greatestFiniteMagnitude, Float.random(in: -1e6...1e6, using: &rng)].randomElement(using: &rng)!
    }

    mutating func string() -> String {
        let alphabet: [String] = ["a", "b", "Z", "0", " ", "_", "é", "漢", "字", "🙂", "\u{0}", "\n"]
        return (0..<Int.random(in: 0...12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }.joined()
    }

    mutating func bytes() -> [UInt8] {
        (0..<Int.random(in: 0...16, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    mutating func count(_ upTo: Int = 5) -> Int { Int.random(in: 0...upTo, using: &rng) }

    mutating func color() -> Bastion_Testing_V1_Color {
        chance(0.15) ? Bastion_Testing_V1_Color(rawValue: Int32.random(in: -5...40, using: &rng))
            : Bastion_Testing_V1_Color.allCases.randomElement(using: &rng)!
    }

    mutating func nested(depth: Int) -> Bastion_Testing_V1_Everything.Nested {
        var nested = Bastion_Testing_V1_Everything.Nested()
        if chance() { nested.a = integer() }
        if chance() { nested.b = string() }
        if depth > 0 {
            if chance(0.4) { nested.child = self.nested(depth: depth - 1) }
            nested.children = (0..<count(2)).map { _ in self.nested(depth: depth - 1) }
        }
        return nested
    }

    mutating func everything(depth: Int = 3) -> Bastion_Testing_V1_Everything {
        var m = Bastion_Testing_V1_Everything()
        if chance() { m.fInt32 = integer() }
        if chance() { m.fInt64 = integer() }
        if chance() { m.fUint32 = integer() }
        if chance() { m.fUint64 = integer() }
        if chance() { m.fSint32 = integer() }
        if chance() { m.fSint64 = integer() }
        if chance() { m.fFixed32 = integer() }
        if chance() { m.fFixed64 = integer() }
        if chance() { m.fSfixed32 = integer() }
        if chance() { m.fSfixed64 = integer() }
        if chance() { m.fFloat = float() }
        if chance() { m.fDouble = double() }
        if chance() { m.fBool = chance(0.5) }
        if chance() { m.fString = string() }
        if chance() { m.fBytes = bytes() }
        if chance() { m.fColor = color() }
        if chance() { m.fNested = nested(depth: depth) }
        if chance() {
            var imported = Bastion_Testing_Shared_Imported()
            imported.note = string()
            imported.values = (0..<count()).map { _ in integer() }
            m.fImported = imported
        }
        if chance() { m.oInt32 = integer() }
        if chance() { m.oString = string() }
        if chance() { m.oColor = color() }
        if chance() { m.oDouble = double() }
        m.rInt32 = (0..<count()).map { _ in integer() }
        m.rSint64 = (0..<count()).map { _ in integer() }
        m.rFixed32 = (0..<count()).map { _ in integer() }
        m.rDouble = (0..<count()).map { _ in double() }
        m.rBool = (0..<count()).map { _ in chance(0.5) }
        m.rString = (0..<count()).map { _ in string() }
        m.rBytes = (0..<count()).map { _ in bytes() }
        m.rColor = (0..<count()).map { _ in color() }
        m.rNested = (0..<count(2)).map { _ in nested(depth: depth - 1) }
        m.rUint64Unpacked = (0..<count()).map { _ in integer() }
        for _ in 0..<count(3) { m.mStringInt32[string()] = integer() }
        for _ in 0..<count(3) { m.mInt64String[integer()] = string() }
        for _ in 0..<count(3) { m.mUint32Nested[integer()] = nested(depth: depth - 1) }
        for _ in 0..<count(2) { m.mBoolColor[chance(0.5)] = color() }
        for _ in 0..<count(3) { m.mSint32Bytes[integer()] = bytes() }
        for _ in 0..<count(3) { m.mFixed64Double[integer()] = double() }
        switch Int.random(in: 0...5, using: &rng) {
        case 0: m.choice = .cString(string())
        case 1: m.choice = .cNested(nested(depth: depth - 1))
        case 2: m.choice = .cInt64(integer())
        case 3: m.choice = .cColor(color())
        case 4 where depth > 0: m.choice = .cSelf(everything(depth: depth - 1))
        default: break
        }
        if depth > 0, chance(0.3) { m.recursive = everything(depth: depth - 1) }
        if chance(0.3) {
            var keywords = Bastion_Testing_V1_Keywords()
            keywords.type = string()
            keywords.class = integer()
            keywords.self_3 = chance(0.5)
            keywords.default = string()
            keywords.protocol = (0..<count()).map { _ in integer() }
            m.keywords = keywords
        }
        if chance(0.2) { m.fMaxFieldNumber = integer() }
        return m
    }

    mutating func legacy(depth: Int = 2) -> Bastion_Testing_V1_Legacy {
        var m = Bastion_Testing_V1_Legacy()
        m.id = integer()
        if chance() { m.name = string() }
        if chance() { m.level = Bastion_Testing_V1_Level.allCases.randomElement(using: &rng)! }
        if chance() { m.blob = bytes() }
        if chance() { m.ratio = double() }
        if chance() { m.scale = float() }
        m.levels = (0..<count()).map { _ in Bastion_Testing_V1_Level.allCases.randomElement(using: &rng)! }
        m.packedValues = (0..<count()).map { _ in integer() }
        m.unpackedValues = (0..<count()).map { _ in integer() }
        if chance() {
            var extra = Bastion_Testing_V1_Legacy.Extra()
            if chance() { extra.x = integer() }
            if chance() { extra.y = string() }
            m.extra = extra
        }
        m.item = (0..<count(3)).map { _ in
            var item = Bastion_Testing_V1_Legacy.Item()
            item.key = string()
            if chance() { item.value = integer() }
            return item
        }
        if depth > 0, chance(0.4) { m.child = legacy(depth: depth - 1) }
        for _ in 0..<count(3) { m.modeMap[integer()] = Bastion_Testing_V1_Mode.allCases.randomElement(using: &rng)! }
        switch Int.random(in: 0...2, using: &rng) {
        case 0: m.pick = .pickNumber(integer())
        case 1: m.pick = .pickText(string())
        default: break
        }
        if chance() { m.big = integer() }
        return m
    }
}
