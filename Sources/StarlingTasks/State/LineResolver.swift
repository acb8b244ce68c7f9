import StarlingCrypto
import StarlingTrust

/// Finds the surviving line of rounds among a task's leases and commits (rules on `TaskView`).
/// Commits are whatever entries a kind marks as such (`ProgramEntry.lineCommit`).
struct LineResolver {
    /// A kept lease with its segment and its place in a chain.
    struct Node {
        let entry: TaskEntry
        let lease: Lease
        /// The lease's commits at rounds base+1, base+2, ... without a gap, up to its fence.
        var segment: [LineCommit] = []
        /// Index of the lease whose segment holds this lease's base; nil for a chain's first lease.
        var predecessor: Int?
        /// On a chain (its base, if any, is on a segment of a lease on a chain).
        var attached = false
        let score: Double

        /// The last committed round of the chain ending here.
        var lastRound: UInt64 { segment.last?.round ?? lease.baseRound }

        /// The order of chains: later round, then higher epoch, then higher score, then lower holder.
        func isBetter(than other: Node) -> Bool {
            if lastRound != other.lastRound { return lastRound > other.lastRound }
            if lease.epoch != other.lease.epoch { return lease.epoch > other.lease.epoch }
            if score != other.score { return score > other.score }
            return lease.holder < other.lease.holder
        }
    }

    struct Line {
        var rounds: [LineCommit] = []
        var tip: Lease?
        var leases: Set<ContentHash> = []
    }

    private(set) var nodes: [Node] = []
    /// (epoch, holder) → index in `nodes`.
    private var slots: [TaskState.LeaseSlot: Int] = [:]
    /// Lease epochs ascending, with the lowest base round of any lease at that epoch or above.
    private var fences: [(epoch: UInt64, baseRoundMin: UInt64)] = []
    let highestEpoch: UInt64
    private(set) var survivingLine = Line()

    init(task: TaskID, leases: [TaskEntry], commits: [TaskEntry]) {
        var collected: [Node] = []
        for entry in leases {
            guard case let .lease(lease) = entry.body else { continue }
            let score = CoordinatorElection.electionScore(task: task, node: lease.holder, capacity: lease.capacity)
            collected.append(Node(entry: entry, lease: lease, score: score))
        }
        // Bases point at lower epochs, so walking epochs upwards finds every predecessor first.
        collected.sort { ($0.lease.epoch, $0.lease.holder) < ($1.lease.epoch, $1.lease.holder) }
        nodes = collected
        for (index, node) in nodes.enumerated() {
            slots[TaskState.LeaseSlot(epoch: node.lease.epoch, holder: node.lease.holder)] = index
        }
        highestEpoch = nodes.last?.lease.epoch ?? 0

        var minimum = UInt64.max
        for node in nodes.reversed() {
            minimum = min(minimum, node.lease.baseRound)
            if let last = fences.last, last.epoch == node.lease.epoch {
                fences[fences.count - 1].baseRoundMin = minimum
            } else {
                fences.append((node.lease.epoch, minimum))
            }
        }
        fences.reverse()

        buildSegments(commits: commits)
        linkChains()
        survivingLine = assembleLine()
    }

    /// The last round a commit under `epoch` may have: the lowest base of any lease of a higher epoch.
    func fenceRound(epoch: UInt64) -> UInt64 {
        var low = 0, high = fences.count
        while low < high {
            let middle = (low + high) / 2
            if fences[middle].epoch <= epoch { low = middle + 1 } else { high = middle }
        }
        return low < fences.count ? fences[low].baseRoundMin : .max
    }

    /// Stale: `author` holds no lease of `epoch`, or a later epoch's lease resumed before `round`.
    func isFenced(epoch: UInt64, round: UInt64, author: NodeID) -> Bool {
        slots[TaskState.LeaseSlot(epoch: epoch, holder: author)] == nil || round > fenceRound(epoch: epoch)
    }

    private mutating func buildSegments(commits: [TaskEntry]) {
        // Per lease, per round: the commit with the lowest hash (entries arrive sorted by hash).
        var byRound: [Int: [UInt64: LineCommit]] = [:]
        for entry in commits {
            guard let ref = entry.body.program?.lineCommit,
                  let index = slots[TaskState.LeaseSlot(epoch: ref.epoch, holder: entry.author)],
                  byRound[index]?[ref.round] == nil else { continue }
            byRound[index, default: [:]][ref.round] = LineCommit(ref: ref, coordinator: entry.author, entry: entry.hash)
        }
        for index in nodes.indices {
            guard let rounds = byRound[index] else { continue }
            let fence = fenceRound(epoch: nodes[index].lease.epoch)
            var round = nodes[index].lease.baseRound + 1
            while round <= fence, let committed = rounds[round] {
                nodes[index].segment.append(committed)
                round += 1
            }
        }
    }

    private mutating func linkChains() {
        for index in nodes.indices {
            guard let base = nodes[index].lease.base else {
                nodes[index].attached = true
                continue
            }
            var best: Int?
            for candidate in nodes.indices where nodes[candidate].lease.epoch == base.epoch && nodes[candidate].attached {
                let node = nodes[candidate]
                guard base.round > node.lease.baseRound else { continue }
                let offset = Int(base.round - node.lease.baseRound - 1)
                guard offset < node.segment.count, node.segment[offset].modelHash == base.modelHash else { continue }
                if let current = best, !node.isBetter(than: nodes[current]) { continue }
                best = candidate
            }
            if let best {
                nodes[index].predecessor = best
                nodes[index].attached = true
            }
        }
    }

    private func assembleLine() -> Line {
        var tip: Int?
        for index in nodes.indices where nodes[index].attached {
            if let current = tip, !nodes[index].isBetter(than: nodes[current]) { continue }
            tip = index
        }
        guard let tip else { return Line() }
        var line = Line(tip: nodes[tip].lease)
        var pieces: [[LineCommit]] = []
        var cursor: Int? = tip
        var cut = UInt64.max
        while let index = cursor {
            let node = nodes[index]
            pieces.append(node.segment.filter { $0.round <= cut })
            line.leases.insert(node.entry.hash)
            cut = node.lease.baseRound
            cursor = node.predecessor
        }
        line.rounds = pieces.reversed().flatMap { $0 }
        return line
    }

    /// Sets the status of leases, commits and holder steps (announces): counted on the surviving
    /// line (or under a lease of its chain, for steps), stale when fenced or under no lease,
    /// superseded otherwise.
    func classify(commits: [TaskEntry], steps: [TaskEntry], into statuses: inout [ContentHash: EntryStatus]) {
        for node in nodes {
            statuses[node.entry.hash] = survivingLine.leases.contains(node.entry.hash) ? .counted : .superseded
        }
        let counted = Set(survivingLine.rounds.map(\.entry))
        for entry in commits {
            guard let ref = entry.body.program?.lineCommit else { continue }
            if counted.contains(entry.hash) { continue }
            statuses[entry.hash] = isFenced(epoch: ref.epoch, round: ref.round, author: entry.author) ? .stale : .superseded
        }
        for entry in steps {
            guard let step = entry.body.program?.holderStep else { continue }
            if isFenced(epoch: step.epoch, round: step.round, author: entry.author) {
                statuses[entry.hash] = .stale
            } else if let index = slots[TaskState.LeaseSlot(epoch: step.epoch, holder: entry.author)],
                      !survivingLine.leases.contains(nodes[index].entry.hash) {
                statuses[entry.hash] = .superseded
            }
        }
    }
}
