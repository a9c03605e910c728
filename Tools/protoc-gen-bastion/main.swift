import BastionCodeGen

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// protoc runs this program with a serialized CodeGeneratorRequest on stdin and reads a
// serialized CodeGeneratorResponse from stdout. Problems travel inside the response.

if CommandLine.arguments.contains(where: { $0 == "--help" || $0 == "-h" || $0 == "--version" }) {
    print(
        """
        protoc-gen-bastion: protoc plugin that generates Bastion Swift code.
        Usage: protoc --plugin=protoc-gen-bastion=PATH --bastion_out=DIR [--bastion_opt=Key=Value] FILES
        Options: Visibility=public|package|internal, FileNaming=FullPath|PathToUnderscores|DropPath,
                 Module=path/to/file.proto=SwiftModule (repeatable)
        """
    )
    exit(0)
}

var input: [UInt8] = []
var chunk = [UInt8](repeating: 0, count: 64 * 1024)
while true {
    let count = read(0, &chunk, chunk.count)
    if count < 0 {
        if errno == EINTR { continue }
        perror("protoc-gen-bastion: reading stdin")
        exit(1)
    }
    if count == 0 { break }
    input.append(contentsOf: chunk[0..<count])
}

let output = CodeGenerator.run(requestBytes: input)
var written = 0
while written < output.count {
    let count = output.withUnsafeBytes { write(1, $0.baseAddress! + written, output.count - written) }
    if count < 0 {
        if errno == EINTR { continue }
        perror("protoc-gen-bastion: writing stdout")
        exit(1)
    }
    written += count
}
