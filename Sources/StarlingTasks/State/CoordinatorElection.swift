import RealModule
import StarlingCrypto
import StarlingTrust

/// Who should coordinate a task: weighted rendezvous hashing (highest random weight).
///
/// Every candidate gets `score = -weight / ln(u)`, where `u` in (0, 1) is drawn from
/// BLAKE2b(task ‖ node); the highest score wins. A candidate's chance to win is its weight over the
/// sum of the weights, every peer computes the same ranking from the same inputs without talking,
/// and when a candidate leaves only the tasks it won move.
///
/// Two scores, on purpose:
/// - `rank` weights each candidate by declared capacity × the caller's measured link quality, so
///   the peer the caller reaches well tries first. Link quality is local: two peers may rank
///   differently. That is fine because ranking only decides who *tries* first (the rank-k candidate
///   claims after k × a backoff when no valid lease appears).
/// - `electionScore` uses declared capacity only (carried in the lease), so every peer resolves a
///   race between two leases of one epoch the same way, whatever it measured.
public enum CoordinatorElection {
    /// A peer that may coordinate the task (the caller filters: alive, `.coordinator` role,
    /// matching the task's placement and coordinator tags).
    public struct Candidate: Sendable, Equatable {
        public let node: NodeID
        /// Declared capacity (`capacity(tags:)`).
        public let capacity: Double
        /// The caller's measurement of its link to the candidate, in (0, 1]; 1 for itself.
        public let linkQuality: Double

        public init(node: NodeID, capacity: Double, linkQuality: Double = 1) {
            self.node = node
            self.capacity = capacity
            self.linkQuality = linkQuality
        }
    }

    /// The membership tag that declares a peer's capacity.
    public static let capacityTag = "capacity"

    /// The declared capacity in a peer's tags: a positive finite number, at most
    /// `TaskStateLimits.capacityMax`; 1 when the tag is missing or unreadable.
    public static func capacity(tags: [String: String]) -> Double {
        guard let text = tags[capacityTag], let value = Double(text), value.isFinite, value > 0 else { return 1 }
        return min(value, TaskStateLimits.capacityMax)
    }

    /// `-weight / ln(u)` with `u` from the first 8 bytes of BLAKE2b(task ‖ node). Only the top 53
    /// bits are used (a Double's precision) and half a step is added, so `u` is never 0 or 1 and
    /// the score is always finite and positive. A weight that is not a positive number scores 0.
    public static func score(task: TaskID, node: NodeID, weight: Double) -> Double {
        guard weight.isFinite, weight > 0 else { return 0 }
        let digest = ContentHash.of(task.hash.bytes + node.publicKey.bytes)
        var prefix: UInt64 = 0
        for byte in digest.bytes.prefix(8) { prefix = prefix << 8 | UInt64(byte) }
        let u = (Double(prefix >> 11) + 0.5) / 9_007_199_254_740_992  // 2^53
        return -weight / Double.log(u)
    }

    /// The score that settles a race between leases of one epoch: capacity only, never a local
    /// measurement, so every peer agrees.
    public static func electionScore(task: TaskID, node: NodeID, capacity: Double) -> Double {
        score(task: task, node: node, weight: min(capacity, TaskStateLimits.capacityMax))
    }

    /// Candidates best first: by score with weight capacity × link quality (clamped to (0, 1]),
    /// ties to the lower NodeID. Deterministic for the same inputs.
    public static func rank(task: TaskID, candidates: [Candidate]) -> [NodeID] {
        let scored = candidates.map { candidate -> (node: NodeID, score: Double) in
            let quality = candidate.linkQuality.isFinite ? min(max(candidate.linkQuality, .leastNormalMagnitude), 1) : 1
            let capacity = candidate.capacity.isFinite && candidate.capacity > 0
                ? min(candidate.capacity, TaskStateLimits.capacityMax) : 1
            return (candidate.node, score(task: task, node: candidate.node, weight: capacity * quality))
        }
        return scored.sorted { left, right in
            left.score != right.score ? left.score > right.score : left.node < right.node
        }.map(\.node)
    }
}
