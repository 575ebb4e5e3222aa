import CZlib
import Foundation
@testable import Learning
import Testing

/// IDX bytes for `dimensions` holding `data`.
func idx(_ dimensions: [Int], _ data: [UInt8], type: UInt8 = 0x08) -> [UInt8] {
    var out: [UInt8] = [0, 0, type, UInt8(dimensions.count)]
    for d in dimensions { out += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
    return out + data
}

/// gzip through zlib (windowBits 15 + 16).
func gzip(_ data: [UInt8]) -> [UInt8] {
    var stream = z_stream()
    deflateInit2_(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: data.count + 1024)
    var input = data
    let produced = input.withUnsafeMutableBufferPointer { source in
        output.withUnsafeMutableBufferPointer { target in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            stream.next_out = target.baseAddress
            stream.avail_out = UInt32(target.count)
            _ = deflate(&stream, Z_FINISH)
            return target.count - Int(stream.avail_out)
        }
    }
    return Array(output[..<produced])
}

struct TempDirectory {
    let path = NSTemporaryDirectory() + "gossipfl-idx-\(UUID().uuidString)"
    init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let file = path + "/" + name
        FileManager.default.createFile(atPath: file, contents: Data(bytes))
        return file
    }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

@Suite struct IDXTests {
    @Test func plainAndGzippedFilesReadTheSame() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let bytes = idx([3, 2, 2], Array(0..<12))
        let plain = try IDXFile(path: dir.write("a-idx3-ubyte", bytes))
        let zipped = try IDXFile(path: dir.write("a-idx3-ubyte.gz", gzip(bytes)))
        #expect(plain == zipped)
        #expect(plain.dimensions == [3, 2, 2] && plain.bytes == Array(0..<12))
    }

    @Test func badFilesAreClearErrorsNamingTheFile() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let cases: [(String, [UInt8], String)] = [
            ("wrong-magic", [0x50, 0x4B, 3, 4] + [UInt8](repeating: 0, count: 20), "wrong magic 0x504b0304"),
            ("floats", idx([2], [0, 0], type: 0x0D), "not unsigned bytes"),
            ("short-data", Array(idx([4, 2, 2], Array(0..<16)).dropLast(3)), "truncated: 13 of 16"),
            ("short-header", [0, 0, 8, 3, 0, 0], "truncated inside the header"),
            ("extra", idx([2], [1, 2]) + [9], "1 bytes after"),
            ("zero-dim", idx([0, 28], []), "dimension 0 is 0"),
            ("truncated.gz", Array(gzip(idx([100], [UInt8](repeating: 7, count: 100))).dropLast(12)), "gzip"),
        ]
        for (name, bytes, reason) in cases {
            let path = dir.write(name, bytes)
            #expect {
                _ = try IDXFile(path: path)
            } throws: { error in
                guard let error = error as? IDXError else { return false }
                return error.path == path && error.description.contains(reason)
            }
        }
        #expect(throws: IDXError.self) { _ = try IDXFile(path: dir.path + "/missing") }
    }

    @Test func aDirectoryLoadsBothSplitsNormalisedWithTheTrainingStatistics() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        _ = dir.write("train-images-idx3-ubyte.gz", gzip(idx([4, 1, 2], [0, 255, 0, 255, 255, 0, 255, 0])))
        _ = dir.write("train-labels-idx1-ubyte", idx([4], [0, 1, 2, 1]))
        _ = dir.write("t10k-images-idx3-ubyte", idx([1, 1, 2], [255, 255]))
        _ = dir.write("t10k-labels-idx1-ubyte.gz", gzip(idx([1], [2])))
        let data = try DatasetDirectory(path: dir.path)
        #expect(data.train.count == 4 && data.train.featureCount == 2 && data.train.classes == 3)
        #expect(abs(data.train.mean - 0.5) < 1e-6 && abs(data.train.std - 0.5) < 1e-6)
        #expect(data.train.pixels.map { $0.rounded() } == [-1, 1, -1, 1, 1, -1, 1, -1])
        #expect(data.test.mean == data.train.mean && data.test.pixels == [1, 1])
        // Labels that do not match the images are refused, naming the labels file.
        _ = dir.write("t10k-labels-idx1-ubyte.gz", gzip(idx([2], [2, 1])))
        #expect(throws: IDXError.self) { _ = try DatasetDirectory(path: dir.path) }
    }

    /// Debian's genuine Fashion-MNIST (`dataset-fashion-mnist`, installed by `make deps`).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: DatasetDirectory.fashionMNIST)))
    func fashionMNISTHasItsKnownShapeAndStatistics() throws {
        let data = try DatasetDirectory(path: DatasetDirectory.fashionMNIST)
        #expect(data.train.count == 60_000 && data.test.count == 10_000)
        #expect(data.train.rows == 28 && data.train.columns == 28 && data.train.classes == 10)
        #expect(abs(data.train.mean - 0.2860) < 5e-4 && abs(data.train.std - 0.3530) < 5e-4,
                "mean \(data.train.mean), std \(data.train.std)")
        #expect(Set(data.train.labels).count == 10 && data.train.labels.filter { $0 == 0 }.count == 6_000)
    }
}
