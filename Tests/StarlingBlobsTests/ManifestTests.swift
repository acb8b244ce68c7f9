import StarlingBlobs
import StarlingCrypto
import StarlingWire
import Testing

@Suite struct ManifestTests {
    static func bytes(_ count: Int, seed: UInt8 = 1) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    @Test func roundTripAndChunkRanges() throws {
        let data = Self.bytes(2_500)
        let manifest = try BlobManifest(of: data, chunkBytes: 1_000)
        #expect(manifest.byteCount == 2_500)
        #expect(manifest.chunkCount == 3)
        #expect(manifest.range(ofChunk: 2) == (2_000, 500))
        let decoded = try BlobManifest(wireBytes: manifest.wireBytes)
        #expect(decoded == manifest)
        #expect(decoded.id == manifest.id)
        #expect(manifest.verify(chunk: data[1_000..<2_000], index: 1))
        #expect(!manifest.verify(chunk: data[0..<1_000], index: 1))
        #expect(!manifest.verify(chunk: data[2_000..<2_499], index: 2), "a short last chunk")
        #expect(!manifest.verify(chunk: data[2_000..<2_500], index: 3), "no such chunk")
    }

    @Test func sameBytesSameIDAndPiecesDoNotMatter() throws {
        let data = Self.bytes(10_000)
        let whole = try BlobManifest(of: data, chunkBytes: 4_096)
        var builder = try BlobManifest.Builder(chunkBytes: 4_096)
        var start = 0
        for piece in [1, 4_095, 7, 3_000, 2_897] {
            try builder.append(data[start..<(start + piece)])
            start += piece
        }
        #expect(try builder.finish() == whole)
        #expect(try BlobManifest(of: Self.bytes(10_000, seed: 2), chunkBytes: 4_096).id != whole.id)
        #expect(try BlobManifest(of: data, chunkBytes: 4_097).id != whole.id, "the chunk size is part of the id")
    }

    @Test func chunkSizesCutSmallBlobsIntoAtLeast32Chunks() {
        #expect(BlobLimits.chunkBytes(forBlobOf: 0) == 64 * 1024)
        #expect(BlobLimits.chunkBytes(forBlobOf: 2 * 1024 * 1024) == 64 * 1024)
        #expect(BlobLimits.chunkBytes(forBlobOf: 2 * 1024 * 1024 + 1) == 128 * 1024)
        #expect(BlobLimits.chunkBytes(forBlobOf: 4_000_272) == 128 * 1024)  // a 1M-parameter model: 31 chunks
        #expect(BlobLimits.chunkBytes(forBlobOf: 40_000_280) == 1024 * 1024)  // 10M: 39 chunks
        #expect(BlobLimits.chunkBytes(forBlobOf: BlobLimits.blobBytesMax) == BlobLimits.chunkBytes)
    }

    @Test func theEmptyBlob() throws {
        let manifest = try BlobManifest(of: [])
        #expect(manifest.chunkCount == 0)
        #expect(try BlobManifest(wireBytes: manifest.wireBytes) == manifest)
    }

    @Test func decodingChecksEveryBound() throws {
        let hash = ContentHash.of([1])
        func encoded(_ byteCount: UInt64, _ chunkBytes: UInt32, _ count: Int, extra: [UInt8] = []) -> [UInt8] {
            var writer = WireWriter()
            writer.write(byteCount)
            writer.write(chunkBytes)
            writer.writeVarint(count)
            for _ in 0..<min(count, 4) { writer.writeFixed(hash.bytes) }
            writer.writeFixed(extra)
            return writer.bytes
        }
        #expect(try BlobManifest(wireBytes: encoded(10, 4, 3)).chunkCount == 3)
        #expect(throws: WireError.self) { try BlobManifest(wireBytes: encoded(10, 4, 2)) }  // too few hashes
        #expect(throws: WireError.self) { try BlobManifest(wireBytes: encoded(10, 4, 4)) }  // too many
        #expect(throws: WireError.self) { try BlobManifest(wireBytes: encoded(10, 0, 3)) }  // chunk size 0
        #expect(throws: WireError.self) {
            try BlobManifest(wireBytes: encoded(10, UInt32(BlobLimits.chunkBytesMax + 1), 1))
        }
        #expect(throws: WireError.self) { try BlobManifest(wireBytes: encoded(BlobLimits.blobBytesMax + 1, UInt32(BlobLimits.chunkBytesMax), 1025)) }
        #expect(throws: WireError.self) { try BlobManifest(wireBytes: encoded(UInt64.max, 1, 1)) }
        #expect(throws: WireError.self) { try BlobManifest(wireBytes: encoded(1_000_000, 1, BlobLimits.chunksMax + 1)) }
        #expect(throws: (any Error).self) { try BlobManifest(wireBytes: encoded(10, 4, 3, extra: [0])) }  // trailing
        #expect(throws: (any Error).self) { try BlobManifest(wireBytes: Array(encoded(10, 4, 3).dropLast())) }  // truncated
        // The largest blob at the standard chunk size is allowed.
        let largest = UInt64(BlobLimits.blobBytesMax)
        let count = Int(largest / UInt64(BlobLimits.chunkBytes))
        #expect(throws: Never.self) {
            try BlobManifest(byteCount: largest, chunkBytes: UInt32(BlobLimits.chunkBytes),
                             chunkHashes: Array(repeating: hash, count: count))
        }
    }

    @Test func everyPrefixOfAManifestFailsToDecode() throws {
        let bytes = try BlobManifest(of: Self.bytes(3_000), chunkBytes: 1_000).wireBytes
        for length in 0..<bytes.count {
            #expect(throws: (any Error).self) { try BlobManifest(wireBytes: bytes.prefix(length)) }
        }
    }
}
