import CNGHTTP2

/// Calls `body` with the headers as an nghttp2 name/value array. nghttp2
/// copies them during the submit call, so the storage is scoped to `body`.
func withHeaderBlock<R>(_ headers: [(String, String)], _ body: (UnsafePointer<nghttp2_nv>, Int) -> R) -> R {
    var storage = [UInt8]()
    var ranges: [(Int, Int, Int, Int)] = []
    ranges.reserveCapacity(headers.count)
    for (name, value) in headers {
        let nameStart = storage.count
        storage.append(contentsOf: name.utf8)
        let valueStart = storage.count
        storage.append(contentsOf: value.utf8)
        ranges.append((nameStart, valueStart - nameStart, valueStart, storage.count - valueStart))
    }
    storage.append(0)  // never empty, so baseAddress is non-nil
    return storage.withUnsafeMutableBufferPointer { buffer in
        let base = buffer.baseAddress!
        let nvs = ranges.map { range in
            nghttp2_nv(name: base + range.0, value: base + range.2, namelen: range.1, valuelen: range.3,
                       flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
        }
        return nvs.withUnsafeBufferPointer { body($0.baseAddress!, $0.count) }
    }
}
