import Durable
import Foundation

/// One Float32 tensor of a checkpoint, named as in PyTorch's `state_dict`.
public struct NamedTensor: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

public struct SafeTensorsError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// The safetensors format (what `safetensors.torch.save_file` writes and PyTorch and the
/// Hugging Face tools read): a little-endian u64 header length, a JSON header naming each
/// tensor's dtype, shape and byte range, padding to 8 bytes, then the raw little-endian data.
/// Float32 only, which is what our models hold. Files are written atomically.
public enum SafeTensors {
    /// Headers beyond this are refused before parsing (the reference loader's limit is 100 MB).
    static let maxHeaderBytes = 100 << 20

    public static func encode(_ tensors: [NamedTensor], metadata: [String: String] = [:]) throws(SafeTensorsError) -> [UInt8] {
        var entries: [String: Any] = [:]
        var offset = 0
        for tensor in tensors {
            guard entries[tensor.name] == nil, tensor.name != "__metadata__", !tensor.name.isEmpty else {
                throw SafeTensorsError(path: "<encode>", reason: "tensor name \(tensor.name.debugDescription) is empty, reserved or repeated")
            }
            guard tensor.shape.allSatisfy({ $0 >= 0 }), tensor.shape.reduce(1, *) == tensor.values.count else {
                throw SafeTensorsError(path: "<encode>", reason: "\(tensor.name): shape \(tensor.shape) does not hold \(tensor.values.count) values")
            }
            let bytes = tensor.values.count * 4
            entries[tensor.name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        if !metadata.isEmpty { entries["__metadata__"] = metadata }
        var header = [UInt8]((try? JSONSerialization.data(withJSONObject: entries, options: [.sortedKeys])) ?? Data("{}".utf8))
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        var out = [UInt8]()
        out.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out += header
        for tensor in tensors {
            tensor.values.withUnsafeBufferPointer { values in
                // Float is little-endian on every platform Swift runs here; the bytes go as they are.
                out.append(contentsOf: UnsafeRawBufferPointer(values))
            }
        }
        return out
    }

    /// The tensors in file order, and the metadata; every structural problem names the file.
    public static func decode(_ bytes: [UInt8], path: String) throws(SafeTensorsError) -> (tensors: [NamedTensor], metadata: [String: String]) {
        func fail(_ reason: String) -> SafeTensorsError { SafeTensorsError(path: path, reason: reason) }
        guard bytes.count >= 8 else { throw fail("truncated: \(bytes.count) bytes, no header length") }
        let length = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard length <= UInt64(min(maxHeaderBytes, bytes.count - 8)) else {
            throw fail("header length \(length) exceeds the file or the \(maxHeaderBytes)-byte limit")
        }
        let dataStart = 8 + Int(length)
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart])),
              let header = object as? [String: Any] else { throw fail("the header is not a JSON object") }
        var metadata: [String: String] = [:]
        if let raw = header["__metadata__"] {
            guard let values = raw as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
            metadata = values
        }
        var located: [(begin: Int, end: Int, tensor: NamedTensor)] = []
        let dataCount = bytes.count - dataStart
        for (name, raw) in header where name != "__metadata__" {
            guard let entry = raw as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw fail("tensor \(name.debugDescription) lacks dtype, shape or data_offsets")
            }
            guard dtype == "F32" else { throw fail("tensor \(name.debugDescription) is \(dtype); only F32 is read") }
            let (begin, end) = (offsets[0], offsets[1])
            guard shape.allSatisfy({ $0 >= 0 }), 0 <= begin, begin <= end, end <= dataCount else {
                throw fail("tensor \(name.debugDescription): offsets \(offsets) outside the \(dataCount) data bytes")
            }
            let (elements, overflow) = shape.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d)
                return (p, acc.1 || o)
            }
            guard !overflow, end - begin == elements * 4 else {
                throw fail("tensor \(name.debugDescription): \(end - begin) bytes for shape \(shape)")
            }
            var values = [Float](repeating: 0, count: elements)
            values.withUnsafeMutableBytes { target in
                bytes.withUnsafeBytes { source in
                    target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[(dataStart + begin)..<(dataStart + end)]))
                }
            }
            located.append((begin, end, NamedTensor(name: name, shape: shape, values: values)))
        }
        located.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var covered = 0
        for item in located {
            guard item.begin == covered else { throw fail("tensor data overlaps or leaves a gap at byte \(covered)") }
            covered = item.end
        }
        guard covered == dataCount else { throw fail("\(dataCount - covered) data bytes belong to no tensor") }
        return (located.map(\.tensor), metadata)
    }

    /// Writes atomically (temporary file, fsync, rename): a crash leaves the old checkpoint or the new one.
    public static func write(_ tensors: [NamedTensor], metadata: [String: String] = [:], to path: String) throws(SafeTensorsError) {
        let bytes = try encode(tensors, metadata: metadata)
        do {
            try AtomicFile.write(bytes, to: path)
        } catch {
            throw SafeTensorsError(path: path, reason: "\(error)")
        }
    }

    public static func read(path: String) throws(SafeTensorsError) -> (tensors: [NamedTensor], metadata: [String: String]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SafeTensorsError(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        return try decode([UInt8](data), path: path)
    }
}
