import StarlingCrypto

/// Remembers which (key, message, signature) triples verified, so each signed claim costs one
/// Ed25519 verification (~60 µs here) per process instead of one per receipt.
///
/// A reference type because one cache may serve many peer machines in the simulator. Peers run on
/// one thread each (the libuv loop, or the simulator's loop), so there is no locking; never share a
/// cache across threads.
public final class SignatureCache: @unchecked Sendable {
    /// Bounded: when full, the cache is cleared (simple, and a re-verification is merely slower).
    public let entriesMax: Int
    private var verified: Set<ContentHash> = []
    public private(set) var hits: UInt64 = 0
    public private(set) var misses: UInt64 = 0

    public init(entriesMax: Int = 1_000_000) { self.entriesMax = entriesMax }

    public func isValid(_ signature: Signature, for message: [UInt8], by key: PublicKey) -> Bool {
        var hasher = Blake2b()
        hasher.update(key.bytes)
        hasher.update(signature.bytes)
        hasher.update(message)
        let digest = hasher.finalize()
        if verified.contains(digest) {
            hits += 1
            return true
        }
        misses += 1
        guard key.isValidSignature(signature, for: message) else { return false }
        if verified.count >= entriesMax { verified.removeAll(keepingCapacity: true) }
        verified.insert(digest)
        return true
    }
}
