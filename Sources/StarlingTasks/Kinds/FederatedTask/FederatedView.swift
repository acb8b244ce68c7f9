import StarlingCrypto
import StarlingTrust

/// A round on the surviving line, with its commit's details.
public struct CommittedRound: Hashable, Sendable {
    public let commit: RoundCommit
    /// The lease holder that signed the commit.
    public let coordinator: NodeID
    /// The hash of the commit entry.
    public let entry: ContentHash

    public var round: UInt64 { commit.round }
    public var epoch: UInt64 { commit.epoch }
    public var modelHash: ContentHash { commit.modelHash }
    public var ref: CommitRef { commit.ref }
}

/// What a FederatedTask's entries mean (the rules are in docs/tasks.md, "Rounds"):
/// - **the announcement**: the current lease holder's announcement, under its epoch, of a round
///   past the line: the highest round, then the latest deadline, then the most participants (a
///   round widened as peers joined keeps its deadline), then the lower hash;
/// - **reports**: the furthest report of each worker, and the latest failure of any;
/// - **rounds**: the line's commits with their participants, samples and metrics.
public struct FederatedView: Sendable, Equatable {
    /// The surviving line's rounds, with their commits.
    public let rounds: [CommittedRound]
    /// The current lease's announcement of a round past the last commit, if any.
    public let announcement: RoundAnnouncement?
    /// The latest report of each worker.
    public let latestReports: [String: WorkerReport]
    /// The latest failure reported by any worker.
    public let lastError: WorkerReport?

    public var lastCommitted: CommittedRound? { rounds.last }

    init(entries: [TaskEntry], line: ProgramLine) {
        var commits: [ContentHash: RoundCommit] = [:]
        var announcement: (RoundAnnouncement, ContentHash)?
        var latest: [String: TaskEntry] = [:]
        var failures: [WorkerReport] = []
        for entry in entries {
            switch entry.body.federated {
            case let .commit(commit)?:
                commits[entry.hash] = commit
            case let .announce(candidate)?:
                guard line.status(of: entry.hash) == .counted, let tip = line.tip, entry.author == tip.holder,
                      candidate.epoch == tip.epoch, candidate.round > line.lastRound else { continue }
                if let (held, hash) = announcement {
                    let heldKey = (held.round, held.deadline, held.participants.count)
                    let candidateKey = (candidate.round, candidate.deadline, candidate.participants.count)
                    if heldKey > candidateKey || (heldKey == candidateKey && hash < entry.hash) { continue }
                }
                announcement = (candidate, entry.hash)
            case let .report(report)?:
                if report.state == .failed { failures.append(report) }
                if let held = latest[report.worker], !TaskState.slotPrecedes(held, entry) { continue }
                latest[report.worker] = entry
            case nil:
                continue
            }
        }
        rounds = line.commits.compactMap { line in
            commits[line.entry].map { CommittedRound(commit: $0, coordinator: line.coordinator, entry: line.entry) }
        }
        self.announcement = announcement?.0
        latestReports = latest.compactMapValues { entry in
            if case let .report(report)? = entry.body.federated { return report }
            return nil
        }
        lastError = failures.max { left, right in
            (left.epoch, left.round) != (right.epoch, right.round)
                ? (left.epoch, left.round) < (right.epoch, right.round) : left.worker > right.worker
        }
    }
}

extension TaskView {
    /// The FederatedTask's view, when the task is one.
    public var federated: FederatedView? {
        if case let .federated(view)? = program { return view }
        return nil
    }
}
