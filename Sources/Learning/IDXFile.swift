import CZlib
import Foundation

/// Why an IDX file could not be read; every case names the file.
public struct IDXError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// One IDX file (the MNIST format: big-endian magic 0x0000TTNN, where TT is the element
/// type and NN the number of dimensions, then NN big-endian UInt32 sizes, then the data),
/// plain or gzip-compressed. Only unsigned bytes (type 0x08) are read: images and labels.
public struct IDXFile: Equatable, Sendable {
    public let dimensions: [Int]
    public let bytes: [UInt8]

    /// Reads `path`, gunzipping it when it starts with the gzip magic.
    public init(path: String) throws(IDXError) {
        guard let raw = FileManager.default.contents(atPath: path) else {
            throw IDXError(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        let data = raw.starts(with: [0x1F, 0x8B]) ? try Self.gunzip([UInt8](raw), path: path) : [UInt8](raw)
        try self.init(decoding: data, path: path)
    }

    /// Parses IDX bytes; `path` is only for error messages.
    public init(decoding data: [UInt8], path: String) throws(IDXError) {
        guard data.count >= 4 else { throw IDXError(path: path, reason: "truncated: \(data.count) bytes, no IDX header") }
        guard data[0] == 0, data[1] == 0 else {
            throw IDXError(path: path, reason: "wrong magic \(Self.hex(data[0..<4])): not an IDX file")
        }
        guard data[2] == 0x08 else {
            throw IDXError(path: path, reason: "element type 0x\(String(data[2], radix: 16)) is not unsigned bytes (0x08)")
        }
        let rank = Int(data[3])
        guard (1...4).contains(rank) else { throw IDXError(path: path, reason: "\(rank) dimensions (1 to 4 expected)") }
        let header = 4 + 4 * rank
        guard data.count >= header else { throw IDXError(path: path, reason: "truncated inside the header") }
        var dimensions: [Int] = []
        var elements = 1
        for d in 0..<rank {
            let o = 4 + 4 * d
            let size = Int(data[o]) << 24 | Int(data[o + 1]) << 16 | Int(data[o + 2]) << 8 | Int(data[o + 3])
            guard size > 0 else { throw IDXError(path: path, reason: "dimension \(d) is 0") }
            let (product, overflow) = elements.multipliedReportingOverflow(by: size)
            guard !overflow, product <= 1 << 32 else { throw IDXError(path: path, reason: "declared size overflows") }
            elements = product
            dimensions.append(size)
        }
        guard data.count - header == elements else {
            throw IDXError(path: path, reason: data.count - header < elements
                ? "truncated: \(data.count - header) of \(elements) data bytes"
                : "\(data.count - header - elements) bytes after the declared \(elements)")
        }
        self.dimensions = dimensions
        self.bytes = Array(data[header...])
    }

    private static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        "0x" + bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// zlib's inflate with gzip framing (windowBits 15 + 32), growing the output as needed.
    static func gunzip(_ input: [UInt8], path: String) throws(IDXError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw IDXError(path: path, reason: "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: max(input.count * 4, 1 << 16))
        var produced = 0
        var status: Int32 = Z_OK
        input.withUnsafeBufferPointer { source in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = UInt32(source.count)
            while status == Z_OK {
                if produced == output.count { output += [UInt8](repeating: 0, count: output.count) }
                output.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress! + produced
                    stream.avail_out = UInt32(target.count - produced)
                    status = inflate(&stream, Z_NO_FLUSH)
                    produced = target.count - Int(stream.avail_out)
                }
                if status == Z_BUF_ERROR && stream.avail_in > 0 { status = Z_OK }  // needs more room
            }
        }
        guard status == Z_STREAM_END else {
            throw IDXError(path: path, reason: status == Z_BUF_ERROR ? "truncated gzip stream" : "corrupt gzip data (zlib \(status))")
        }
        return Array(output[..<produced])
    }
}
