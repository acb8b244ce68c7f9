import StarlingBlobs
import StarlingCrypto
import StarlingWire
import Testing

/// Bytes from other peers never trap a blob decoder, and what a decoder accepts is canonical.
@Suite struct BlobDecoderPropertyTests {
    @Test(arguments: [UInt64(1), 2024, 0xB10B])
    func randomAndMutatedManifestsDecodeCanonicallyOrNotAtAll(seed: UInt64) throws {
        var random = DeterministicRandom(seed: seed)
        let valid = try BlobManifest(of: (0..<5_000).map { UInt8(truncatingIfNeeded: $0) }, chunkBytes: 1_000).wireBytes
        var accepted = 0
        for round in 0..<3_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = valid
                for _ in 0..<Int.random(in: 1...3, using: &random) {
                    let position = Int.random(in: 0..<bytes.count, using: &random)
                    bytes[position] = UInt8.random(in: 0...255, using: &random)
                }
            } else {
                bytes = (0..<Int.random(in: 0...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
            if let manifest = try? BlobManifest(wireBytes: bytes) {
                accepted += 1
                #expect(manifest.wireBytes == bytes)
            }
        }
        #expect(accepted > 0, "mutating only hash bytes keeps a manifest valid")
    }

    @Test func randomBytesNeverTrapTheMessageDecoders() throws {
        var random = DeterministicRandom(seed: 7)
        let server = try SigningKey(seed: Array(repeating: 2, count: 32))
        let client = try SigningKey(seed: Array(repeating: 1, count: 32))
        let serverKeys = try PairwiseKeys(local: server, remote: client.publicKey)
        let clientKeys = try PairwiseKeys(local: client, remote: server.publicKey)
        let request = BlobRequest.chunk(ContentHash.of([1]), index: 3)
        let sealed = BlobSealing.sealRequest(request, requester: client.publicKey, keys: clientKeys, using: &random)
        for _ in 0..<2_000 {
            var bytes = [ProtocolVersion.current, UInt8(MessageTag.blobChunkRequest.rawValue)]
            bytes += (0..<Int.random(in: 0...120, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            if let received = try? BlobSealing.receive(bytes) { _ = try? BlobSealing.open(received, keys: serverKeys) }
            bytes[1] = UInt8(MessageTag.blobChunkResponse.rawValue)
            _ = try? BlobSealing.openResponse(bytes, to: request, requestNonce: sealed.nonce, keys: clientKeys)
        }
    }
}
