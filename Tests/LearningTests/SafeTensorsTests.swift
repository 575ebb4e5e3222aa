import Foundation
@testable import Learning
import Testing

@Suite struct SafeTensorsTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// Written by the official `safetensors` package (Golden/make_golden.py).
    @Test func readsWhatTheReferenceImplementationWrote() throws {
        let (tensors, metadata) = try SafeTensors.read(path: Self.golden.appendingPathComponent("reference.safetensors").path)
        #expect(metadata == ["format": "pt", "round": "12"])
        #expect(tensors.map(\.name) == ["fc.bias", "fc.weight"])
        let weight = try #require(tensors.first { $0.name == "fc.weight" })
        #expect(weight.shape == [2, 3])
        #expect(weight.values[0] == 0.5 && weight.values[1] == -1.25 && weight.values[2] == 3)
        #expect(weight.values[3] == 0 && weight.values[3].sign == .minus)
        #expect(weight.values[4] == 1e-40 && weight.values[4].isSubnormal && weight.values[5] == 65504)
        #expect(tensors.first { $0.name == "fc.bias" }?.values == [0.1, -7])
    }

    @Test func roundTripsThroughAnAtomicWrite() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let tensors = [NamedTensor(name: "conv1.weight", shape: [2, 1, 1, 2], values: [1, 2, 3, .nan]),
                       NamedTensor(name: "conv1.bias", shape: [2], values: [-0.5, .infinity]),
                       NamedTensor(name: "empty", shape: [0, 3], values: [])]
        let path = dir.path + "/model.safetensors"
        try SafeTensors.write(tensors, metadata: ["epoch": "3"], to: path)
        let (back, metadata) = try SafeTensors.read(path: path)
        #expect(metadata == ["epoch": "3"])
        #expect(back.map(\.name) == ["conv1.weight", "conv1.bias", "empty"], "file order is write order")
        #expect(back[0].values[0...2] == [1, 2, 3] && back[0].values[3].isNaN && back[1].values == [-0.5, .infinity])
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        let header = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(header[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) } % 8 == 0, "header padded to 8 bytes")
    }

    @Test func malformedFilesAreClearErrors() throws {
        let good = try SafeTensors.encode([NamedTensor(name: "w", shape: [2], values: [1, 2])])
        func header(_ json: String, data: Int) -> [UInt8] {
            let h = Array(json.utf8)
            return withUnsafeBytes(of: UInt64(h.count).littleEndian) { Array($0) } + h + [UInt8](repeating: 0, count: data)
        }
        let cases: [([UInt8], String)] = [
            (Array(good.prefix(5)), "truncated"),
            ([255, 255, 255, 255, 0, 0, 0, 0] + good.dropFirst(8), "header length"),
            (header("[1, 2]", data: 0), "not a JSON object"),
            (header(#"{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: 4), "only F32"),
            (header(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: 8), "8 bytes for shape [3]"),
            (header(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: 4), "outside"),
            (header(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: 4), "overlaps"),
            (header(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: 12), "belong to no tensor"),
            (header(#"{"w":{"dtype":"F32"}}"#, data: 0), "lacks"),
            (header(#"{"__metadata__":{"a":1}}"#, data: 0), "__metadata__"),
        ]
        for (bytes, reason) in cases {
            #expect {
                _ = try SafeTensors.decode(bytes, path: "x.safetensors")
            } throws: { error in
                (error as? SafeTensorsError)?.description.hasPrefix("x.safetensors: ") == true
                    && (error as? SafeTensorsError)?.reason.contains(reason) == true
            }
        }
        #expect(throws: SafeTensorsError.self) { _ = try SafeTensors.encode([NamedTensor(name: "w", shape: [3], values: [1])]) }
        #expect(throws: SafeTensorsError.self) {
            _ = try SafeTensors.encode([NamedTensor(name: "w", shape: [1], values: [1]), NamedTensor(name: "w", shape: [1], values: [2])])
        }
    }
}
