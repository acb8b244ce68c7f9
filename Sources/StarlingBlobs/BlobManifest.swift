import StarlingCrypto
import StarlingWire

/// What a blob is: its size, its chunk size and the BLAKE2b-256 hash of every chunk.
/// The blob's id is the hash of the manifest's canonical bytes, so the id names the content and
/// every chunk can be checked on its own as it arrives, from whoever sent it.
///
///     byteCount(u64) chunkBytes(u32) count(varint) hash(32 bytes) × count
///
/// Decoding checks every bound: the size (at most `BlobLimits.blobBytesMax`), the chunk size
/// (1...`BlobLimits.chunkBytesMax`) and a count that is exactly what size and chunk size imply.
public struct BlobManifest: Equatable, Sendable, WireCodable {
    public let byteCount: UInt64
    public let chunkBytes: UInt32
    public let chunkHashes: [ContentHash]

    /// Checks the same rules as decoding.
    public init(byteCount: UInt64, chunkBytes: UInt32, chunkHashes: [ContentHash]) throws {
        guard byteCount <= BlobLimits.blobBytesMax else {
            throw WireError.limitExceeded(field: "blob byte count", value: byteCount, limit: Int(BlobLimits.blobBytesMax))
        }
        guard chunkBytes >= 1, Int(chunkBytes) <= BlobLimits.chunkBytesMax else {
            throw WireError.invalidField("chunk size \(chunkBytes) is outside 1...\(BlobLimits.chunkBytesMax)")
        }
        let expected = (byteCount + UInt64(chunkBytes) - 1) / UInt64(chunkBytes)
        guard expected <= UInt64(BlobLimits.chunksMax) else {
            throw WireError.limitExceeded(field: "blob chunk count", value: expected, limit: BlobLimits.chunksMax)
        }
        guard UInt64(chunkHashes.count) == expected else {
            throw WireError.invalidField("\(chunkHashes.count) chunk hashes for \(byteCount) bytes in chunks of \(chunkBytes) (expected \(expected))")
        }
        self.byteCount = byteCount
        self.chunkBytes = chunkBytes
        self.chunkHashes = chunkHashes
    }

    /// The manifest of `bytes` (all in memory: for small blobs and tests; files go through `Builder`).
    /// The manifest of `bytes` in chunks of `chunkBytes`; by default the size a blob of this length
    /// gets here (`BlobLimits.chunkBytes(forBlobOf:)`), so the same bytes always give the same id.
    public init(of bytes: [UInt8], chunkBytes: Int? = nil) throws {
        var builder = try Builder(chunkBytes: chunkBytes ?? BlobLimits.chunkBytes(forBlobOf: UInt64(bytes.count)))
        try builder.append(bytes)
        self = try builder.finish()
    }

    /// The blob's id: BLAKE2b-256 of this manifest's canonical bytes.
    public var id: ContentHash { ContentHash.of(wireBytes) }

    public var chunkCount: Int { chunkHashes.count }

    /// Where chunk `index` lies in the blob.
    public func range(ofChunk index: Int) -> (offset: UInt64, count: Int) {
        precondition(index >= 0 && index < chunkCount, "chunk \(index) of \(chunkCount)")
        let offset = UInt64(index) * UInt64(chunkBytes)
        return (offset, Int(min(UInt64(chunkBytes), byteCount - offset)))
    }

    /// Whether `bytes` are exactly chunk `index` (size and hash).
    public func verify<C: Collection>(chunk bytes: C, index: Int) -> Bool where C.Element == UInt8 {
        guard index >= 0, index < chunkCount, bytes.count == range(ofChunk: index).count else { return false }
        return ContentHash.of(bytes) == chunkHashes[index]
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(byteCount)
        writer.write(chunkBytes)
        writer.writeVarint(chunkHashes.count)
        for hash in chunkHashes { writer.writeFixed(hash.bytes) }
    }

    public init(from reader: inout WireReader) throws {
        let byteCount = try reader.readUInt64()
        let chunkBytes = try reader.readUInt32()
        let count = try reader.readCount(field: "blob chunk count", limit: BlobLimits.chunksMax)
        var hashes: [ContentHash] = []
        hashes.reserveCapacity(count)
        for _ in 0..<count { hashes.append(try ContentHash(bytes: reader.readFixed(ContentHash.byteCount))) }
        try self.init(byteCount: byteCount, chunkBytes: chunkBytes, chunkHashes: hashes)
    }

    /// Builds a manifest from bytes given in pieces of any size (a file read a buffer at a time).
    public struct Builder {
        public let chunkBytes: Int
        private var hashes: [ContentHash] = []
        private var current = Blake2b()
        private var currentCount = 0
        public private(set) var byteCount: UInt64 = 0

        public init(chunkBytes: Int = BlobLimits.chunkBytes) throws {
            guard chunkBytes >= 1, chunkBytes <= BlobLimits.chunkBytesMax else {
                throw WireError.invalidField("chunk size \(chunkBytes) is outside 1...\(BlobLimits.chunkBytesMax)")
            }
            self.chunkBytes = chunkBytes
        }

        public mutating func append<C: Collection>(_ bytes: C) throws where C.Element == UInt8, C.Index == Int {
            guard byteCount + UInt64(bytes.count) <= BlobLimits.blobBytesMax else {
                throw WireError.limitExceeded(field: "blob byte count", value: byteCount + UInt64(bytes.count),
                                              limit: Int(BlobLimits.blobBytesMax))
            }
            var start = bytes.startIndex
            while start < bytes.endIndex {
                let take = min(chunkBytes - currentCount, bytes.endIndex - start)
                current.update(bytes[start..<(start + take)])
                currentCount += take
                start += take
                if currentCount == chunkBytes {
                    hashes.append(current.finalize())
                    current = Blake2b()
                    currentCount = 0
                }
            }
            byteCount += UInt64(bytes.count)
        }

        public mutating func finish() throws -> BlobManifest {
            if currentCount > 0 {
                hashes.append(current.finalize())
                current = Blake2b()
                currentCount = 0
            }
            return try BlobManifest(byteCount: byteCount, chunkBytes: UInt32(chunkBytes), chunkHashes: hashes)
        }
    }
}
