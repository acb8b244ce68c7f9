import StarlingCrypto
import Testing

@Suite("AEAD (XChaCha20-Poly1305)")
struct AEADTests {
    @Test("seal then open round-trips for many lengths; sealed is nonce + ciphertext + tag")
    func roundTrip() throws {
        var random = DeterministicRandom(seed: 21)
        let key = SymmetricKey.generate(using: &random)
        for length in [0, 1, 15, 16, 17, 1200, 70_000] {
            let plaintext = randomBytes(count: length, using: &random)
            let additional = randomBytes(count: length % 40, using: &random)
            let sealed = AEAD.seal(plaintext, additionalData: additional, key: key, using: &random)
            #expect(sealed.count == length + AEAD.overheadByteCount)
            #expect(AEAD.overheadByteCount == 24 + 16)
            #expect(try AEAD.open(sealed, additionalData: additional, key: key) == plaintext)
        }
    }

    @Test("the nonce is fresh per message")
    func freshNonce() {
        var random = SecureRandom()
        let key = SymmetricKey.generate()
        let first = AEAD.seal([1, 2, 3], key: key, using: &random)
        let second = AEAD.seal([1, 2, 3], key: key, using: &random)
        #expect(first.prefix(AEAD.nonceByteCount) != second.prefix(AEAD.nonceByteCount))
        #expect(first != second)
    }

    @Test("tampering with any byte (nonce, ciphertext or tag) fails")
    func tamperAnyByte() throws {
        var random = DeterministicRandom(seed: 22)
        let key = SymmetricKey.generate(using: &random)
        let sealed = AEAD.seal(Array("attack at dawn".utf8), additionalData: [7], key: key, using: &random)
        for index in sealed.indices {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var bad = sealed
                bad[index] ^= mask
                #expect(throws: CryptoError.decryptionFailed) {
                    try AEAD.open(bad, additionalData: [7], key: key)
                }
            }
        }
        for length in 0..<sealed.count {
            #expect(throws: CryptoError.decryptionFailed) {
                try AEAD.open(Array(sealed.prefix(length)), additionalData: [7], key: key)
            }
        }
        #expect(throws: CryptoError.decryptionFailed) { try AEAD.open(sealed + [0], additionalData: [7], key: key) }
    }

    @Test("a different additional data or key fails")
    func mismatches() throws {
        var random = DeterministicRandom(seed: 23)
        let key = SymmetricKey.generate(using: &random)
        let otherKey = SymmetricKey.generate(using: &random)
        let sealed = AEAD.seal([1, 2, 3], additionalData: [1, 2], key: key, using: &random)
        #expect(try AEAD.open(sealed, additionalData: [1, 2], key: key) == [1, 2, 3])
        for additional: [UInt8] in [[], [1], [1, 3], [1, 2, 0], [2, 1]] {
            #expect(throws: CryptoError.decryptionFailed) { try AEAD.open(sealed, additionalData: additional, key: key) }
        }
        #expect(throws: CryptoError.decryptionFailed) { try AEAD.open(sealed, additionalData: [1, 2], key: otherKey) }
    }

    @Test("symmetric keys are 32 bytes and have a stable short fingerprint")
    func keys() throws {
        #expect(throws: CryptoError.wrongLength(what: "symmetric key", expected: 32, actual: 16)) {
            try SymmetricKey(bytes: [UInt8](repeating: 0, count: 16))
        }
        let key = try SymmetricKey(bytes: [UInt8](repeating: 9, count: 32))
        #expect(key.fingerprint.count == 16)
        #expect(key.fingerprint == hexString(Array(ContentHash.of([UInt8](repeating: 9, count: 32)).bytes.prefix(8))))
        #expect(key == (try SymmetricKey(bytes: [UInt8](repeating: 9, count: 32))))
        #expect(key != (try SymmetricKey(bytes: [UInt8](repeating: 8, count: 32))))
        #expect(key.secret.count == 32)
    }
}
