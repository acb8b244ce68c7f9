import StarlingCrypto
import StarlingTrust

/// What the host hands a kind's view: the surviving line, its tip, and how each entry counts.
public struct ProgramLine: Sendable {
    /// The surviving line, by round.
    public let commits: [LineCommit]
    /// The current lease (the line's tip).
    public let tip: Lease?
    /// The line's last round (the tip's base round when it has committed nothing yet).
    public let lastRound: UInt64
    let statuses: [ContentHash: EntryStatus]

    public func status(of entry: ContentHash) -> EntryStatus? { statuses[entry] }
}

/// What a kind's own entries mean, one case per kind with a program. Derived on every
/// `TaskState.view`, from sorted entries only, so it depends only on the set of entries.
public enum ProgramView: Sendable, Equatable {
    case federated(FederatedView)
    case jointInference(JointInferenceView)
    case incremental(IncrementalView)

    /// The view of `entries` (the kind's entries the state holds, sorted by hash) for a task with
    /// `spec`; nil when this build has no program for the spec's kind.
    init?(spec: TaskSpec, entries: [TaskEntry], line: ProgramLine) {
        switch spec.kind {
        case .federatedTask: self = .federated(FederatedView(entries: entries, line: line))
        case .jointInferenceService: self = .jointInference(JointInferenceView(entries: entries, line: line))
        case .incrementalLearningJob: self = .incremental(IncrementalView(entries: entries, line: line))
        }
    }
}
