import StarlingCrypto
import Testing

@Suite("Pairwise keys")
struct PairwiseKeysTests {
    @Test("both ends derive matching keys: A's sending is B's receiving and vice versa")
    func symmetric() throws {
        var random = DeterministicRandom(seed: 41)
        for _ in 0..<20 {
            let a = SigningKey.generate(using: &random)
            let b = SigningKey.generate(using: &random)
            let atA = try PairwiseKeys(local: a, remote: b.publicKey)
            let atB = try PairwiseKeys(local: b, remote: a.publicKey)
            #expect(atA.sending == atB.receiving)
            #expect(atA.receiving == atB.sending)
            #expect(atA.sending != atA.receiving, "each direction has its own key")

            // And the keys work as AEAD keys between the two.
            let sealed = AEAD.seal([1, 2, 3], key: atA.sending, using: &random)
            #expect(try AEAD.open(sealed, key: atB.receiving) == [1, 2, 3])
        }
    }

    @Test("keys with a third node differ")
    func thirdNode() throws {
        var random = DeterministicRandom(seed: 42)
        let a = SigningKey.generate(using: &random)
        let b = SigningKey.generate(using: &random)
        let c = SigningKey.generate(using: &random)
        let ab = try PairwiseKeys(local: a, remote: b.publicKey)
        let ac = try PairwiseKeys(local: a, remote: c.publicKey)
        let cb = try PairwiseKeys(local: c, remote: b.publicKey)
        let all = [ab.sending, ab.receiving, ac.sending, ac.receiving, cb.sending, cb.receiving]
        for i in all.indices { for j in all.indices where i < j { #expect(all[i] != all[j]) } }
    }

    @Test("derivation is deterministic")
    func deterministic() throws {
        let a = try SigningKey(seed: [UInt8](repeating: 1, count: 32))
        let b = try SigningKey(seed: [UInt8](repeating: 2, count: 32))
        #expect(try PairwiseKeys(local: a, remote: b.publicKey).sending == PairwiseKeys(local: a, remote: b.publicKey).sending)
    }

    @Test("pairing with oneself or with a weak or invalid key is refused")
    func refused() throws {
        let a = try SigningKey(seed: [UInt8](repeating: 1, count: 32))
        #expect(throws: CryptoError.self) { try PairwiseKeys(local: a, remote: a.publicKey) }
        let identityPoint = [1] + [UInt8](repeating: 0, count: 31)  // small order
        let zero = [UInt8](repeating: 0, count: 32)  // small order
        let notOnCurve = [2] + [UInt8](repeating: 0, count: 31)
        for weak in [identityPoint, zero, notOnCurve] {
            #expect(throws: CryptoError.self) { try PairwiseKeys(local: a, remote: PublicKey(bytes: weak)) }
        }
    }
}
