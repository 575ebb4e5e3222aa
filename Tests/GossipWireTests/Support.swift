import Foundation
import GossipWire
import Testing

/// The committed golden encodings (written by Golden/make_golden.py).
enum Golden {
    static var directory: URL {
        get throws {
            guard let url = Bundle.module.url(forResource: "Golden", withExtension: nil) else {
                throw CocoaError(.fileNoSuchFile)
            }
            return url
        }
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent("\(name).bin")))
    }

    /// Names of every `.bin` file present.
    static func names() throws -> Set<String> {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        return Set(files.filter { $0.hasSuffix(".bin") }.map { String($0.dropLast(4)) })
    }
}

/// The same deterministic bytes as make_golden.py's `pattern(n)`.
func pattern(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8($0 % 251) }
}

/// Encodes then decodes as the same type.
func roundTrip<M: WireMessage>(_ value: M) throws -> M {
    try M(decoding: value.encode())
}


/// Compares byte strings, reporting the first difference rather than
/// dumping both arrays (some are megabytes long).
func expectSameBytes(
    _ actual: [UInt8], _ expected: [UInt8], sourceLocation: SourceLocation = #_sourceLocation
) {
    guard actual != expected else { return }
    let firstDifference = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        ?? min(actual.count, expected.count)
    Issue.record(
        "bytes differ at offset \(firstDifference) (lengths \(actual.count) vs \(expected.count))",
        sourceLocation: sourceLocation)
}
