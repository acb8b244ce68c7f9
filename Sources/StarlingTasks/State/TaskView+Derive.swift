import StarlingCrypto
import StarlingTrust

/// Derives a `TaskView` from a state's entries (the rules are on `TaskView`). Everything is computed
/// from sorted inputs, so the result depends only on the set of entries.
extension TaskView {
    init(state: TaskState) {
        var statuses: [ContentHash: EntryStatus] = [:]
        var leases: [TaskEntry] = [], commits: [TaskEntry] = [], steps: [TaskEntry] = [], programEntries: [TaskEntry] = []
        var completes: [TaskEntry] = [], cancels: [TaskEntry] = [], fails: [TaskEntry] = []
        var replicatedBy: [CommitRef: [NodeID]] = [:]
        for entry in state.entries {
            switch entry.body {
            case .lease: leases.append(entry)
            case .complete: completes.append(entry)
            case .cancel: cancels.append(entry)
            case .fail: fails.append(entry)
            case let .replicated(ref): replicatedBy[ref, default: []].append(entry.author)
            case let .program(program):
                programEntries.append(entry)
                if program.lineCommit != nil { commits.append(entry) } else if program.holderStep != nil { steps.append(entry) }
            }
            statuses[entry.hash] = .counted
        }

        let lines = LineResolver(task: state.id, leases: leases, commits: commits)
        lines.classify(commits: commits, steps: steps, into: &statuses)
        let line = lines.survivingLine
        let tip = line.tip
        let lastRound = line.rounds.last?.round ?? tip?.baseRound ?? 0

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
        self.cancelReason = cancelReason
        self.completion = completion
        self.failure = failure
        self.replicatedBy = replicatedBy.mapValues { Array(Set($0)).sorted() }
        self.program = ProgramView(spec: state.spec, entries: programEntries,
                                   line: ProgramLine(commits: line.rounds, tip: tip, lastRound: lastRound, statuses: statuses))
        self.statuses = statuses
    }
}
