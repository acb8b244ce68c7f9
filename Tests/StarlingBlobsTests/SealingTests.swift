import StarlingBlobs
import StarlingCrypto
import StarlingWire
import Testing

@Suite struct SealingTests {
    static let client = try! SigningKey(seed: Array(repeating: 1, count: 32))
    static let server = try! SigningKey(seed: Array(repeating: 2, count: 32))
    static let stranger = try! SigningKey(seed: Array(repeating: 3, count: 32))
    static let id = ContentHash.of([9, 9, 9])

    let clientKeys = try! PairwiseKeys(local: client, remote: server.publicKey)
    let serverKeys = try! PairwiseKeys(local: server, remote: client.publicKey)

    @Test func requestAndResponseRoundTrip() throws {
        var random = DeterministicRandom(seed: 7)
        for request in [BlobRequest.manifest(Self.id), .chunk(Self.id, index: 5)] {
            let sealed = BlobSealing.sealRequest(request, requester: Self.client.publicKey, keys: clientKeys, using: &random)
            #expect(BlobSealing.isBlobRequest(sealed.bytes))
            let received = try BlobSealing.receive(sealed.bytes)
            #expect(received.requester == Self.client.publicKey)
            #expect(received.tag == request.tag)
            #expect(received.nonce == sealed.nonce)
            #expect(try BlobSealing.open(received, keys: serverKeys) == request)
            for answer in [BlobResponse.chunk([1, 2, 3]), .manifest([4]), .notHeld, .busy] {
                if case .chunk = answer, case .manifest = request { continue }
                if case .manifest = answer, case .chunk = request { continue }
                let response = BlobSealing.sealResponse(answer, to: request, requestNonce: received.nonce, keys: serverKeys, using: &random)
                #expect(try BlobSealing.openResponse(response, to: request, requestNonce: sealed.nonce, keys: clientKeys) == answer)
            }
        }
    }

    @Test func aRequestFromSomeoneElseDoesNotOpen() throws {
        var random = DeterministicRandom(seed: 7)
        // The stranger claims to be the client but does not hold its key.
        let strangerKeys = try PairwiseKeys(local: Self.stranger, remote: Self.server.publicKey)
        let forged = BlobSealing.sealRequest(.manifest(Self.id), requester: Self.client.publicKey, keys: strangerKeys, using: &random)
        #expect(throws: (any Error).self) { try BlobSealing.open(try BlobSealing.receive(forged.bytes), keys: serverKeys) }
    }

    @Test func tamperedBytesDoNotOpen() throws {
        var random = DeterministicRandom(seed: 7)
        let request = BlobRequest.chunk(Self.id, index: 1)
        let sealed = BlobSealing.sealRequest(request, requester: Self.client.publicKey, keys: clientKeys, using: &random)
        for position in [2, 20, 40, sealed.bytes.count - 1] {
            var tampered = sealed.bytes
            tampered[position] ^= 0x01
            #expect(throws: (any Error).self) { try BlobSealing.open(try BlobSealing.receive(tampered), keys: serverKeys) }
        }
        let response = BlobSealing.sealResponse(.chunk([1, 2, 3]), to: request, requestNonce: sealed.nonce, keys: serverKeys, using: &random)
        for position in [1, 10, response.count - 1] {
            var tampered = response
            tampered[position] ^= 0x80
            #expect(throws: (any Error).self) {
                try BlobSealing.openResponse(tampered, to: request, requestNonce: sealed.nonce, keys: clientKeys)
            }
        }
        #expect(throws: (any Error).self) { try BlobSealing.openResponse([], to: request, requestNonce: sealed.nonce, keys: clientKeys) }
    }

    @Test func aResponseCannotBeReplayedForAnotherChunkBlobOrRequest() throws {
        var random = DeterministicRandom(seed: 7)
        let request = BlobRequest.chunk(Self.id, index: 1)
        let sealed = BlobSealing.sealRequest(request, requester: Self.client.publicKey, keys: clientKeys, using: &random)
        let response = BlobSealing.sealResponse(.chunk([1, 2, 3]), to: request, requestNonce: sealed.nonce, keys: serverKeys, using: &random)
        #expect(throws: (any Error).self) {
            try BlobSealing.openResponse(response, to: .chunk(Self.id, index: 2), requestNonce: sealed.nonce, keys: clientKeys)
        }
        #expect(throws: (any Error).self) {
            try BlobSealing.openResponse(response, to: .chunk(ContentHash.of([1]), index: 1), requestNonce: sealed.nonce, keys: clientKeys)
        }
        let later = BlobSealing.sealRequest(request, requester: Self.client.publicKey, keys: clientKeys, using: &random)
        #expect(throws: (any Error).self) {
            try BlobSealing.openResponse(response, to: request, requestNonce: later.nonce, keys: clientKeys)
        }
        // A stranger's keys cannot open the answer either.
        let strangerKeys = try PairwiseKeys(local: Self.stranger, remote: Self.server.publicKey)
        #expect(throws: (any Error).self) {
            try BlobSealing.openResponse(response, to: request, requestNonce: sealed.nonce, keys: strangerKeys)
        }
    }

    @Test func otherFramesAreNotBlobRequests() throws {
        #expect(!BlobSealing.isBlobRequest([]))
        #expect(!BlobSealing.isBlobRequest(try Envelope(tag: .syncRequest, body: [1]).frame()))
        #expect(!BlobSealing.isBlobRequest(try Envelope(tag: .syncRequest, body: [1]).streamMessage()))
        #expect(!BlobSealing.isBlobRequest(try Envelope(tag: .blobChunkResponse, body: [1]).streamMessage()))
        #expect(BlobSealing.isBlobRequest(try Envelope(tag: .blobChunkRequest, body: [1]).streamMessage()))
        #expect(throws: (any Error).self) { try BlobSealing.receive(try Envelope(tag: .blobChunkRequest, body: [1]).streamMessage()) }
    }
}
