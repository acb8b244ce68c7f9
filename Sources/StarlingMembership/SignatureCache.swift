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
    private var boxes: [ContentHash: ClaimBox] = [:]
    public private(set) var hits: UInt64 = 0
    public private(set) var misses: UInt64 = 0

    public init(entriesMax: Int = 1_000_000) { self.entriesMax = entriesMax }

    public func isValid(_ signature: Signature, for message: [UInt8], by key: PublicKey) -> Bool {
        let hasher = Blake2b()
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

    /// The shared box of a signed claim whose signature is valid, or nil. Every peer using this
    /// cache holds the same box for the same claim: in a simulation of thousands of peers that is
    /// the difference between one copy of each claim and thousands.
    public func verifiedBox(_ signed: SignedClaim) -> ClaimBox? {
        let message = signed.signedBytes
        let key = signed.claim.author.publicKey
        let hasher = Blake2b()
        hasher.update(key.bytes)
        hasher.update(signed.signature.bytes)
        hasher.update(message)
        let digest = hasher.finalize()
        if let box = boxes[digest] {
            hits += 1
            return box
        }
        misses += 1
        guard key.isValidSignature(signed.signature, for: message) else { return nil }
        if boxes.count >= entriesMax { boxes.removeAll(keepingCapacity: true) }
        let box = ClaimBox(signed)
        boxes[digest] = box
        return box
    }
}
