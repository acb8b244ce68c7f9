import StarlingCrypto

/// What a stream of random numbers is used for. Each purpose, and each index within it (a node, a
/// fault), gets its own generator, so adding a node or a fault does not shift any other draw.
public enum RandomPurpose: UInt64, Sendable, CaseIterable {
    /// Delay, loss and duplication of what one node sends (index: the sender).
    case network = 1
    /// A node's machine randomness (index: the node).
    case machine = 2
    /// Fault settings drawn for `faults: random` and random node choices of scripted events.
    case faults = 3
    /// A node's Ed25519 identity (index: the node).
    case identity = 4
    /// A node's bootstrap list (index: the node).
    case bootstrap = 5
    /// The cluster authority's key.
    case authority = 6
    /// An attacker's identity and rogue authority (index: the attacker).
    case attacker = 7
    /// Per-link base delays (hashed, not drawn: see `NetworkModel`).
    case linkDelay = 8
    /// Clock offsets and drift (index: the node).
    case clock = 9
}

/// One seed, many independent generators.
///
/// A root `DeterministicRandom` is seeded from the run's seed; its first effect keys every child.
/// A child's seed is a SplitMix64 hash of (root key, purpose, index), so children never overlap in
/// practice and any child can be made without making the others first.
public struct SeedStreams: Sendable {
    public let seed: UInt64
    private let rootKey: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        var root = DeterministicRandom(seed: seed)
        rootKey = root.next()
    }

    public func childSeed(_ purpose: RandomPurpose, _ index: UInt64 = 0) -> UInt64 {
        Self.mix(Self.mix(rootKey ^ (purpose.rawValue &* 0x9E37_79B9_7F4A_7C15)) ^ (index &* 0xD1B5_4A32_D192_ED03))
    }

    public func generator(_ purpose: RandomPurpose, _ index: UInt64 = 0) -> DeterministicRandom {
        DeterministicRandom(seed: childSeed(purpose, index))
    }

    public func generator(_ purpose: RandomPurpose, _ index: Int) -> DeterministicRandom {
        generator(purpose, UInt64(truncatingIfNeeded: index))
    }

    /// SplitMix64's finalizer: a bijective, well-mixing hash of 64 bits.
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
