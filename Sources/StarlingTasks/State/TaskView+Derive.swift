import StarlingCrypto
import StarlingTrust

/// Derives a `TaskView` from a state's entries (the rules are on `TaskView`). Everything is computed
/// from sorted inputs, so the result depends only on the set of entries.
extension TaskView {
    init(state: TaskState) {
        var statuses: [ContentHash: EntryStatus] = [:]
        var leases: [TaskEntry] = [], commits: [TaskEntry] = [], announces: [TaskEntry] = []
        var completes: [TaskEntry] = [], reports: [TaskEntry] = [], cancels: [TaskEntry] = [], fails: [TaskEntry] = []
        var replicatedBy: [CommitRef: [NodeID]] = [:]
        for entry in state.entries {
            switch entry.body {
            case .lease: leases.append(entry)
            case .commit: commits.append(entry)
            case .announce: announces.append(entry)
            case .complete: completes.append(entry)
            case .report: reports.append(entry)
            case .cancel: cancels.append(entry)
            case .fail: fails.append(entry)
            case let .replicated(ref): replicatedBy[ref, default: []].append(entry.author)
            }
            statuses[entry.hash] = .counted
        }

        let lines = LineResolver(task: state.id, leases: leases, commits: commits)
        lines.classify(commits: commits, announces: announces, into: &statuses)
        let line = lines.survivingLine
        let tip = line.tip

        // The current round: the tip's announcement of a round past the last commit.
        let lastRound = line.rounds.last?.round ?? tip?.baseRound ?? 0
        var announcement: (RoundAnnouncement, ContentHash)?
        for entry in announces where statuses[entry.hash] == .counted {
            guard case let .announce(candidate) = entry.body, let tip, entry.author == tip.holder,
                  candidate.epoch == tip.epoch, candidate.round > lastRound else { continue }
            // The highest round, then the latest deadline, then the most participants (a round
            // widened as peers joined keeps its deadline), then the lower hash.
            if let (held, hash) = announcement {
                let heldKey = (held.round, held.deadline, held.participants.count)
                let candidateKey = (candidate.round, candidate.deadline, candidate.participants.count)
                if heldKey > candidateKey || (heldKey == candidateKey && hash < entry.hash) { continue }
            }
            announcement = (candidate, entry.hash)
        }

        // Completion: by the coordinator of a commit on the line, naming that commit; or by the
        // line's current holder, naming the line's last commit (a coordinator that died between
        // its last commit and the completion leaves the task to its successor to complete).
        let onLine = Dictionary(line.rounds.map { ($0.ref, $0.coordinator) }, uniquingKeysWith: { first, _ in first })
        let lastOnLine = line.rounds.last?.ref
        var completion: CommitRef?
        for entry in completes {
            guard case let .complete(ref) = entry.body else { continue }
            if onLine[ref] == entry.author || (ref == lastOnLine && tip.map { $0.holder == entry.author && $0.epoch >= ref.epoch } == true) {
                if (completion?.round ?? 0) < ref.round { completion = ref }
            } else {
                statuses[entry.hash] = lines.isFenced(epoch: ref.epoch, round: ref.round, author: entry.author) ? .stale : .superseded
            }
        }

        // Failure: by the current holder, under its epoch, of a round the line has not committed.
        // A successor that later commits past it (after a partition heals, say) supersedes it.
        var failure: TaskFailure?
        for entry in fails {
            guard case let .fail(candidate) = entry.body else { continue }
            if let tip, entry.author == tip.holder, candidate.epoch == tip.epoch, candidate.round > lastRound {
                if failure == nil { failure = candidate }  // entries are sorted by hash
            } else {
                statuses[entry.hash] = lines.isFenced(epoch: candidate.epoch, round: candidate.round, author: entry.author)
                    ? .stale : .superseded
            }
        }

        var latest: [String: TaskEntry] = [:]
        for entry in reports {
            guard let report = entry.report else { continue }
            if let held = latest[report.worker], !TaskState.reportPrecedes(held, entry) { continue }
            latest[report.worker] = entry
        }
        let failures = reports.compactMap(\.report).filter { $0.state == .failed }
        let lastError = failures.max { left, right in
            (left.epoch, left.round) != (right.epoch, right.round)
                ? (left.epoch, left.round) < (right.epoch, right.round) : left.worker > right.worker
        }

        let phase: TaskPhase
        if completion != nil { phase = .completed }
        else if failure != nil { phase = .failed }
        else if !cancels.isEmpty { phase = .cancelled }
        else if !leases.isEmpty { phase = .running }
        else { phase = .pending }

        var cancelReason: String?
        if case let .cancel(reason) = cancels.first?.body { cancelReason = reason }  // entries are sorted by hash

        self.task = state.id
        self.phase = phase
        self.currentLease = tip
        self.nextEpoch = lines.highestEpoch &+ 1
        self.committedRounds = line.rounds
        self.announcement = announcement?.0
        self.latestReports = latest.compactMapValues(\.report)
        self.lastError = lastError
        self.cancelReason = cancelReason
        self.completion = completion
        self.failure = failure
        self.replicatedBy = replicatedBy.mapValues { Array(Set($0)).sorted() }
        self.statuses = statuses
    }
}
