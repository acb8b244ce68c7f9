/// Remembers which (key, message, signature) triples verified, so each signed record costs one
/// Ed25519 verification (~60 µs here) per process instead of one per receipt. Membership's claims
/// and the tasks' entries both go through it; it lives here so neither depends on the other.
///
/// A reference type because one cache may serve many peer machines in the simulator. Peers run on
/// one thread each (the libuv loop, or the simulator's loop), so there is no locking; never share a
/// cache across threads.
public final class SignatureCache: SignatureVerifier, @unchecked Sendable {
    /// Bounded: when full, the cache is cleared (simple, and a re-verification is merely slower).
    public let entriesMax: Int
    private var verified: Set<ContentHash> = []
    private var boxes: [ContentHash: AnyObject] = [:]
    public private(set) var hits: UInt64 = 0
    public private(set) var misses: UInt64 = 0

    public init(entriesMax: Int = 1_000_000) { self.entriesMax = entriesMax }

    public func isValid(_ signature: Signature, for message: [UInt8], by key: PublicKey) -> Bool {
        let digest = Self.digest(signature, message, key)
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

    /// The shared box of a signed record whose signature is valid, or nil. `make` builds the box
    /// the first time; every later caller with the same (key, message, signature) gets that same
    /// object: in a simulation of thousands of peers that is the difference between one copy of
    /// each record and thousands. (Membership's `verifiedBox(_:)` boxes its claims this way.)
    public func verifiedBox<Box: AnyObject>(_ signature: Signature, for message: [UInt8], by key: PublicKey,
                                            make: () -> Box) -> Box? {
        let digest = Self.digest(signature, message, key)
        if let shared = boxes[digest] {
            hits += 1
            // The digest covers the signed bytes, so a box of another type here would mean the same
            // bytes boxed as two kinds of record; the signature is valid either way.
            return (shared as? Box) ?? make()
        }
        misses += 1
        guard key.isValidSignature(signature, for: message) else { return nil }
        if boxes.count >= entriesMax { boxes.removeAll(keepingCapacity: true) }
        let box = make()
        boxes[digest] = box
        return box
    }

    private static func digest(_ signature: Signature, _ message: [UInt8], _ key: PublicKey) -> ContentHash {
        let hasher = Blake2b()
        hasher.update(key.bytes)
        hasher.update(signature.bytes)
        hasher.update(message)
        return hasher.finalize()
    }
}
