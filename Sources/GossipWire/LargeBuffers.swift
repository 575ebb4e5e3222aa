internal import CProtos
import Synchronization
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A few large buffers kept for reuse between messages. glibc serves allocations above its
/// mmap threshold (128 KiB, raised to the size of the last such block freed) with a fresh mmap
/// and unmaps them on free, so every 1 MiB message buffer faulted in and zero-filled all its
/// pages again (measured: about half the server's CPU time on a 1 MiB unary echo). The message
/// buffers of the RPC runtime and protobuf-c's unpacked trees come from here; what is kept is
/// bounded (`maxCachedBytes` in all), so an idle process holds little.
public enum LargeBuffers {
    /// Smaller requests go to malloc, which reuses heap memory for them anyway.
    public static let minimum = 128 << 10
    static let maxCachedBytes = 24 << 20
    static let maxCachedBlocks = 6
    /// A cached block serves a request at most this many times smaller (no 16 MiB block for 200 KiB).
    static let maxWaste = 2

    /// Addresses as integers: the Mutex's state must be Sendable, raw pointers are not.
    private struct Cache {
        var blocks: [(address: UInt, capacity: Int)] = []
        var bytes = 0
    }

    private static let cache = Mutex(Cache())

    /// At least `count` bytes, uninitialized; release with `release(_:)`.
    public static func allocate(_ count: Int) -> UnsafeMutableRawPointer {
        if count >= minimum {
            let reused = cache.withLock { cache -> UInt? in
                guard let index = cache.blocks.firstIndex(where: { $0.capacity >= count && $0.capacity <= count * maxWaste })
                else { return nil }
                let block = cache.blocks.remove(at: index)
                cache.bytes -= block.capacity
                return block.address
            }
            if let reused, let base = UnsafeMutableRawPointer(bitPattern: reused) {
                (base + adoptedOffset).storeBytes(of: 0, as: Int.self)
                return base + header
            }
        }
        // Rounded to 64 KiB so slightly different sizes can share a block later.
        let capacity = count >= minimum ? (count + 0xFFFF) & ~0xFFFF : count
        guard let base = malloc(header + capacity) else { fatalError("out of memory allocating \(count) bytes") }
        base.storeBytes(of: capacity, as: Int.self)
        (base + adoptedOffset).storeBytes(of: 0, as: Int.self)
        return base + header
    }

    public static func release(_ pointer: UnsafeMutableRawPointer?) {
        guard let pointer else { return }
        let base = pointer - header
        let capacity = base.load(as: Int.self)
        if capacity >= minimum {
            let address = UInt(bitPattern: base)
            let kept = cache.withLock { cache -> Bool in
                if cache.blocks.count == maxCachedBlocks || cache.bytes + capacity > maxCachedBytes {
                    // Make room by dropping the smallest block if this one is larger.
                    guard let smallest = cache.blocks.indices.min(by: { cache.blocks[$0].capacity < cache.blocks[$1].capacity }),
                          cache.blocks[smallest].capacity < capacity,
                          cache.bytes - cache.blocks[smallest].capacity + capacity <= maxCachedBytes else { return false }
                    free(UnsafeMutableRawPointer(bitPattern: cache.blocks[smallest].address))
                    cache.bytes -= cache.blocks.remove(at: smallest).capacity
                }
                cache.blocks.append((address, capacity))
                cache.bytes += capacity
                return true
            }
            if kept { return }
        }
        free(base)
    }

    /// Capacity, then the adopted mark; keeps the payload 16-byte aligned, as malloc's is.
    private static let header = 16
    private static let adoptedOffset = 8

    /// Takes a block out of protobuf-c's unpacked tree: freeing the tree then leaves it alone,
    /// and the caller releases it with `release(_:)`. False when it was adopted already (the
    /// caller must copy). Only for blocks from `protobufAllocator`, on the thread that unpacked
    /// them, before the tree is freed: the mark is a plain store, not an atomic.
    static func adopt(_ pointer: UnsafeMutableRawPointer) -> Bool {
        let mark = pointer - header + adoptedOffset
        guard mark.load(as: Int.self) == 0 else { return false }
        mark.storeBytes(of: 1, as: Int.self)
        return true
    }

    private static func releaseUnlessAdopted(_ pointer: UnsafeMutableRawPointer?) {
        guard let pointer, (pointer - header + adoptedOffset).load(as: Int.self) == 0 else { return }
        release(pointer)
    }

    /// protobuf-c's allocator for unpacking: its copies of large bytes fields reuse our blocks,
    /// and the ones a Swift value adopted (`WireBytes`) survive the tree's free.
    static var protobufAllocator: ProtobufCAllocator {
        ProtobufCAllocator(alloc: { _, size in LargeBuffers.allocate(size) },
                           free: { _, pointer in LargeBuffers.releaseUnlessAdopted(pointer) },
                           allocator_data: nil)
    }
}
