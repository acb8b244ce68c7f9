import StarlingCrypto
import Testing

@Suite("BLAKE2b-256")
struct HashTests {
    // Expected values computed independently with Python's hashlib.blake2b(digest_size=32).
    @Test("known answers", arguments: [
        ("", "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"),
        ("abc", "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"),
    ])
    func knownAnswers(input: String, expected: String) {
        let hash = ContentHash.of(Array(input.utf8))
        #expect(hash.hex == expected)
        #expect(hash.description == expected)
        #expect(hash.bytes == bytes(hex: expected))
    }

    @Test("streaming in any split gives the one-shot hash")
    func streaming() {
        var random = DeterministicRandom(seed: 11)
        let data = randomBytes(count: 10_000, using: &random)
        let oneShot = ContentHash.of(data)
        for _ in 0..<20 {
            let hasher = Blake2b()
            var offset = 0
            while offset < data.count {
                let length = Int.random(in: 0...700, using: &random)
                let end = min(data.count, offset + length)
                hasher.update(data[offset..<end])
                offset = end
            }
            #expect(hasher.finalize() == oneShot)
        }
        // A non-contiguous collection takes the copying path and agrees too.
        let hasher = Blake2b()
        hasher.update(Array("a".utf8))
        hasher.update("bc".utf8.lazy.map { $0 })
        #expect(hasher.finalize() == ContentHash.of(Array("abc".utf8)))
    }

    @Test("a hash is exactly 32 bytes; hashes order by their bytes")
    func lengthAndOrder() throws {
        #expect(throws: CryptoError.wrongLength(what: "content hash", expected: 32, actual: 31)) {
            try ContentHash(bytes: [UInt8](repeating: 0, count: 31))
        }
        let low = try ContentHash(bytes: [UInt8](repeating: 0, count: 32))
        let high = try ContentHash(bytes: [0] + [UInt8](repeating: 1, count: 31))
        #expect(low < high)
        #expect(ContentHash.of([1]) != ContentHash.of([2]))
    }
}
