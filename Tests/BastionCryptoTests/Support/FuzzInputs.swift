import Foundation

/// The committed inputs of the OPAQUE message fuzz target.
enum FuzzInputs {
    static let folders = ["FuzzTesting/Corpus/FuzzOPAQUEMessages", "FuzzTesting/FailCases/FuzzOPAQUEMessages"]

    static func load() throws -> [[UInt8]] {
        var inputs: [[UInt8]] = []
        for folder in folders {
            let url = Python.repository.appendingPathComponent(folder)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: url.path) else { continue }
            for name in names.sorted() where !name.hasPrefix(".") {
                inputs.append(Array(try Data(contentsOf: url.appendingPathComponent(name))))
            }
        }
        return inputs
    }
}
