import StarlingCrypto
import Testing

@Suite("Keyring")
struct KeyringTests {
    private func keys(_ count: Int, seed: UInt64 = 31) -> [SymmetricKey] {
        var random = DeterministicRandom(seed: seed)
        return (0..<count).map { _ in SymmetricKey.generate(using: &random) }
    }

    @Test("an empty keyring can neither seal nor open")
    func empty() {
        var random = DeterministicRandom(seed: 1)
        let ring = Keyring()
        #expect(ring.primary == nil)
        #expect(throws: CryptoError.noKeys) { try ring.seal([1], using: &random) }
        #expect(throws: CryptoError.noKeys) { try ring.open([UInt8](repeating: 0, count: 64)) }
    }

    @Test("the first key installed becomes primary; later ones do not")
    func firstIsPrimary() throws {
        let keys = keys(3)
        var ring = Keyring()
        try ring.install(keys[0])
        #expect(ring.primary == keys[0])
        try ring.install(keys[1])
        try ring.install(keys[2])
        #expect(ring.primary == keys[0])
        #expect(ring.keys == keys)
        #expect(throws: Keyring.Error.alreadyInstalled(fingerprint: keys[1].fingerprint)) { try ring.install(keys[1]) }
    }

    @Test("seal uses the primary; open works with any installed key")
    func sealAndOpen() throws {
        var random = DeterministicRandom(seed: 2)
        let keys = keys(2)
        var ring = Keyring()
        try ring.install(keys[0])
        try ring.install(keys[1])
        let sealed = try ring.seal([5, 6], additionalData: [1], using: &random)
        #expect(try AEAD.open(sealed, additionalData: [1], key: keys[0]) == [5, 6])
        // A message from a peer that already switched to the new (non-primary here) key still opens.
        let fromNewKey = AEAD.seal([7], key: keys[1], using: &random)
        #expect(try ring.open(fromNewKey) == [7])
        #expect(throws: CryptoError.decryptionFailed) { try ring.open(sealed, additionalData: [2]) }
    }

    @Test("use switches the primary; the primary cannot be removed; a removed key no longer opens")
    func rotation() throws {
        var random = DeterministicRandom(seed: 3)
        let keys = keys(3)
        var ring = Keyring()
        for key in keys { try ring.install(key) }
        let oldMessage = AEAD.seal([1], key: keys[0], using: &random)

        #expect(throws: Keyring.Error.removingPrimary(fingerprint: keys[0].fingerprint)) { try ring.remove(keys[0]) }
        try ring.use(keys[2])
        #expect(ring.primary == keys[2])
        try ring.remove(keys[0])
        #expect(ring.keys == [keys[1], keys[2]])
        #expect(ring.primary == keys[2], "removing a key before the primary keeps the same primary key")
        #expect(throws: CryptoError.decryptionFailed) { try ring.open(oldMessage) }
        #expect(throws: Keyring.Error.notInstalled(fingerprint: keys[0].fingerprint)) { try ring.remove(keys[0]) }
        #expect(throws: Keyring.Error.notInstalled(fingerprint: keys[0].fingerprint)) { try ring.use(keys[0]) }

        let sealed = try ring.seal([9], using: &random)
        #expect(try AEAD.open(sealed, key: keys[2]) == [9])
        try ring.remove(keys[1])
        #expect(ring.keys == [keys[2]])
        #expect(ring.primaryIndex == 0)
        #expect(try ring.open(sealed) == [9])
    }

    @Test("at most 16 keys")
    func limit() throws {
        #expect(Keyring.keyCountMax == 16)
        let keys = keys(17)
        var ring = Keyring()
        for key in keys.prefix(16) { try ring.install(key) }
        #expect(ring.keys.count == 16)
        #expect(throws: Keyring.Error.full(limit: 16)) { try ring.install(keys[16]) }
        #expect(throws: Keyring.Error.full(limit: 16)) { try Keyring(keys: keys, primaryIndex: 0) }
        try ring.remove(keys[3])
        try ring.install(keys[16])
        #expect(ring.keys.count == 16)
    }

    @Test("rebuilding from stored parts checks the primary and duplicates")
    func rebuild() throws {
        let keys = keys(3)
        let ring = try Keyring(keys: keys, primaryIndex: 1)
        #expect(ring.primary == keys[1])
        #expect(try Keyring(keys: [], primaryIndex: nil) == Keyring())
        #expect(throws: CryptoError.self) { try Keyring(keys: keys, primaryIndex: 3) }
        #expect(throws: CryptoError.self) { try Keyring(keys: keys, primaryIndex: -1) }
        #expect(throws: CryptoError.self) { try Keyring(keys: keys, primaryIndex: nil) }
        #expect(throws: CryptoError.self) { try Keyring(keys: [], primaryIndex: 0) }
        #expect(throws: Keyring.Error.alreadyInstalled(fingerprint: keys[0].fingerprint)) {
            try Keyring(keys: [keys[0], keys[1], keys[0]], primaryIndex: 0)
        }
    }

    @Test("errors describe themselves")
    func descriptions() {
        let errors: [Keyring.Error] = [.alreadyInstalled(fingerprint: "ab"), .notInstalled(fingerprint: "ab"), .removingPrimary(fingerprint: "ab"), .full(limit: 16)]
        for error in errors { #expect(!error.description.isEmpty) }
        let cryptoErrors: [CryptoError] = [.wrongLength(what: "x", expected: 1, actual: 2), .invalidEncoding(what: "x"), .invalidKey(what: "x"), .decryptionFailed, .noKeys]
        for error in cryptoErrors { #expect(!error.description.isEmpty) }
    }
}
