import StarlingCrypto
import Testing

/// The verify-once cache that membership claims and task entries share.
@Suite("SignatureCache")
struct SignatureCacheTests {
    final class Box {
        let label: String
        init(_ label: String) { self.label = label }
    }

    static let key = try! SigningKey(seed: [UInt8](repeating: 7, count: SigningKey.seedByteCount))
    static let message: [UInt8] = Array("a signed record".utf8)

    @Test func aValidSignatureIsVerifiedOnceAndABadOneNeverPasses() throws {
        let cache = SignatureCache()
        let signature = Self.key.sign(Self.message)
        #expect(cache.isValid(signature, for: Self.message, by: Self.key.publicKey))
        #expect(cache.isValid(signature, for: Self.message, by: Self.key.publicKey))
        #expect((cache.hits, cache.misses) == (1, 1))

        let other = try SigningKey(seed: [UInt8](repeating: 8, count: SigningKey.seedByteCount))
        #expect(!cache.isValid(signature, for: Self.message, by: other.publicKey))
        #expect(!cache.isValid(signature, for: Self.message + [0], by: Self.key.publicKey))
        // A refusal is not remembered as a success.
        #expect(!cache.isValid(signature, for: Self.message + [0], by: Self.key.publicKey))
        #expect(cache.misses == 4)
    }

    @Test func everyCallerGetsTheSameBoxAndABadSignatureGetsNone() {
        let cache = SignatureCache()
        let signature = Self.key.sign(Self.message)
        var made = 0
        let first = cache.verifiedBox(signature, for: Self.message, by: Self.key.publicKey) { made += 1; return Box("first") }
        let second = cache.verifiedBox(signature, for: Self.message, by: Self.key.publicKey) { made += 1; return Box("second") }
        #expect(first != nil && first === second)
        #expect(made == 1)

        let forged = Self.key.sign(Self.message + [1])
        #expect(cache.verifiedBox(forged, for: Self.message, by: Self.key.publicKey) { Box("forged") } == nil)
    }

    @Test func aFullCacheStartsOverAndStillAnswersRight() {
        let cache = SignatureCache(entriesMax: 2)
        let messages: [[UInt8]] = (0..<3).map { [UInt8($0)] }
        let signatures = messages.map { Self.key.sign($0) }
        for (message, signature) in zip(messages, signatures) {
            #expect(cache.isValid(signature, for: message, by: Self.key.publicKey))
        }
        // The third entry cleared the first two: asking for the first verifies again.
        #expect(cache.isValid(signatures[0], for: messages[0], by: Self.key.publicKey))
        #expect((cache.hits, cache.misses) == (0, 4))
        #expect(cache.isValid(signatures[2], for: messages[2], by: Self.key.publicKey))
        #expect(cache.hits == 1)
    }
}
