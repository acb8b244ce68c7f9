import StarlingCrypto
import StarlingTrust
import StarlingWire

/// What `TaskState.merge` did with an entry.
public enum MergeOutcome: Equatable, Sendable {
    /// New and valid: now part of the state (it may have replaced an entry it supersedes).
    case added
    /// Already held.
    case duplicate
    /// Valid but older than what the state holds: an earlier renewal of a held lease, or an entry
    /// behind the furthest `TaskStateLimits.reportsPerWorkerMax` of its slot (a worker's reports). Not kept.
    case superseded
    /// Invalid: never kept, never relayed.
    case rejected(TaskRejection)
}

/// The replicated record of one task: its signed spec and a set of signed entries.
///
/// `merge` is deterministic, commutative and idempotent: what the state holds is a function of
/// the set of valid entries it was given, whatever their order and however often each came. Of
/// those, it keeps all but the dominated ones (for one (epoch, holder), the lease with the highest
/// (renewal, hash); for one slot of a kind's entries, such as a worker's reports, the furthest
/// `reportsPerWorkerMax`), which is again
/// order-independent. Entries are held sorted by hash, so two peers with the same set hold
/// byte-identical states (`wireBytes`) and the same `digest`. The one exception is the safety bound
/// `TaskStateLimits.entriesMax`: once a task holds that many entries, new ones are refused.
///
/// Signatures and roles are checked on the way in; the state never checks them again. Everything
/// derived (the line of rounds, the current lease, the phase) is in `view`.
public struct TaskState: Sendable, Equatable {
    public let signedSpec: SignedTaskSpec
    /// Sorted by `hash`, strictly.
    public private(set) var entries: [TaskEntry] = []
    private var hashes: Set<ContentHash> = []
    /// The kept lease of each (epoch, holder) and the kept entries of each slot, so that the
    /// dominance rules cost a lookup rather than a scan.
    private var leases: [LeaseSlot: TaskEntry] = [:]
    private var slots: [String: [TaskEntry]] = [:]

    struct LeaseSlot: Hashable, Sendable {
        let epoch: UInt64
        let holder: NodeID
    }

    /// A state holding only `signedSpec`, which the caller has verified (see `init(verifying:...)`).
    public init(spec signedSpec: SignedTaskSpec) {
        self.signedSpec = signedSpec
    }

    /// A state for a spec received from another peer: refused unless the submitter may submit and
    /// the signature is valid.
    public init(verifying signedSpec: SignedTaskSpec, roles: RoleLookup, verifier: some SignatureVerifier) throws(TaskRejection) {
        try signedSpec.verify(roles: roles, verifier: verifier)
        self.init(spec: signedSpec)
    }

    public var id: TaskID { signedSpec.id }
    public var spec: TaskSpec { signedSpec.spec }
    public var count: Int { entries.count }

    public static func == (left: TaskState, right: TaskState) -> Bool {
        left.signedSpec.id == right.signedSpec.id && left.entries.map(\.hash) == right.entries.map(\.hash)
    }

    /// Checks `entry` (task, author's role, the entry's own rules, signature) and adds it.
    public mutating func merge(_ entry: TaskEntry, roles: RoleLookup, verifier: some SignatureVerifier) -> MergeOutcome {
        if hashes.contains(entry.hash) { return .duplicate }
        guard entry.task == id else { return .rejected(.wrongTask) }
        guard let granted = roles(entry.author) else { return .rejected(.unknownAuthor(entry.author)) }
        guard granted.contains(entry.requiredRole) else { return .rejected(.missingRole(entry.author, needs: entry.requiredRole)) }
        if let problem = entry.problem(spec: spec) { return .rejected(.invalid(problem)) }
        guard verifier.isValid(entry.signature, for: entry.signedBytes, by: entry.author.publicKey) else {
            return .rejected(.badSignature)
        }
        return insert(entry)
    }

    /// Adds an entry already known to be valid, applying the dominance rules and the size bound.
    mutating func insert(_ entry: TaskEntry) -> MergeOutcome {
        if hashes.contains(entry.hash) { return .duplicate }
        var replaced: TaskEntry?
        switch entry.body {
        case let .lease(lease):
            if let held = leases[LeaseSlot(epoch: lease.epoch, holder: lease.holder)] {
                guard Self.renewalPrecedes(held, entry) else { return .superseded }
                replaced = held
            }
        case let .program(program):
            if let slot = program.slot {
                let kept = slots[slot.key] ?? []
                if kept.count >= TaskStateLimits.reportsPerWorkerMax, let oldest = kept.min(by: Self.slotPrecedes) {
                    guard Self.slotPrecedes(oldest, entry) else { return .superseded }
                    replaced = oldest
                }
            }
        default:
            break
        }
        if replaced == nil && entries.count >= TaskStateLimits.entriesMax { return .rejected(.limitReached) }
        if let replaced { remove(replaced) }
        entries.insert(entry, at: insertionIndex(of: entry.hash))
        hashes.insert(entry.hash)
        switch entry.body {
        case let .lease(lease): leases[LeaseSlot(epoch: lease.epoch, holder: lease.holder)] = entry
        case let .program(program): if let slot = program.slot { slots[slot.key, default: []].append(entry) }
        default: break
        }
        return .added
    }

    /// Whether the state holds an entry with this hash.
    public func contains(_ hash: ContentHash) -> Bool { hashes.contains(hash) }

    /// The hashes of the entries, sorted: what a peer offers in anti-entropy.
    public var entryHashes: [ContentHash] { entries.map(\.hash) }

    /// The entries whose hashes are not in `known`: what to send a peer that holds `known`.
    public func entries(notIn known: Set<ContentHash>) -> [TaskEntry] {
        entries.filter { !known.contains($0.hash) }
    }

    /// One hash of the whole state (the task id, then every entry hash in order): two peers with the
    /// same digest hold the same entries, so anti-entropy can skip the task.
    public var digest: ContentHash {
        var bytes: [UInt8] = []
        bytes.reserveCapacity((entries.count + 1) * ContentHash.byteCount)
        bytes.append(contentsOf: id.hash.bytes)
        for entry in entries { bytes.append(contentsOf: entry.hash.bytes) }
        return ContentHash.of(bytes)
    }

    /// What the entries mean now: the line of rounds, the current lease, the phase. Computed on
    /// each call, in O(n log n): callers keep the result until the state changes.
    public var view: TaskView { TaskView(state: self) }

    // MARK: Dominance

    /// `older` precedes `newer` when it has a lower renewal, or the same renewal and a lower hash
    /// (an honest holder never signs two leases with one renewal number, but the rule must be total).
    static func renewalPrecedes(_ older: TaskEntry, _ newer: TaskEntry) -> Bool {
        guard case let .lease(left) = older.body, case let .lease(right) = newer.body else { return false }
        if left.renewal != right.renewal { return left.renewal < right.renewal }
        return older.hash < newer.hash
    }

    /// Entries of one slot in order of progress (for reports: epoch, round, state), then hash.
    public static func slotPrecedes(_ left: TaskEntry, _ right: TaskEntry) -> Bool {
        guard let first = left.body.program?.slot, let second = right.body.program?.slot else { return false }
        if first.progress != second.progress { return first.progress < second.progress }
        return left.hash < right.hash
    }

    private mutating func remove(_ entry: TaskEntry) {
        let index = insertionIndex(of: entry.hash)
        guard index < entries.count, entries[index].hash == entry.hash else { return }
        entries.remove(at: index)
        hashes.remove(entry.hash)
        switch entry.body {
        case let .lease(lease): leases[LeaseSlot(epoch: lease.epoch, holder: lease.holder)] = nil
        case let .program(program): if let slot = program.slot { slots[slot.key]?.removeAll { $0.hash == entry.hash } }
        default: break
        }
    }

    /// The first index whose entry hash is not below `hash`.
    private func insertionIndex(of hash: ContentHash) -> Int {
        var low = 0, high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].hash < hash { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
