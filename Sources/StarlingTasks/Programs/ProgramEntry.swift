import StarlingTrust
import StarlingWire

/// A kind's own signed entries, one case per kind with a program (`docs/architecture.md`, "How to
/// add a task kind"). The host never looks inside one: it asks the questions below, which is all
/// that leases, fencing, the line of rounds, dominance and replication need.
public enum ProgramEntry: Hashable, Sendable {
    case federated(FederatedEntry)
    case jointInference(JointInferenceEntry)
    case incremental(IncrementalEntry)

    /// The kind's entry, for the questions every kind's entries answer.
    var entry: any KindEntry {
        switch self {
        case let .federated(entry): return entry
        case let .jointInference(entry): return entry
        case let .incremental(entry): return entry
        }
    }

    /// The entry's wire tag.
    public var kind: TaskEntryKind { entry.kind }

    /// The task kind whose program signs it: an entry is refused in a task of another kind.
    public var taskKind: TaskKindName { entry.taskKind }

    /// The role the author's certificate must carry.
    public var requiredRole: Roles { entry.requiredRole }

    /// A commit on the task's line of rounds: the host fences it, orders it into the line, and
    /// replicates it before it is spread (nil for any other entry).
    public var lineCommit: CommitRef? { entry.lineCommit }

    /// A statement the lease holder makes about a round past the line (a FederatedTask's
    /// announce): counted only under a lease of the surviving line, stale when fenced.
    public var holderStep: HolderStep? { entry.holderStep }

    /// Entries of one slot (a worker's reports) are kept up to `TaskStateLimits.reportsPerWorkerMax`,
    /// the furthest along first; nil for entries that are all kept.
    public var slot: EntrySlot? { entry.slot }

    /// What is wrong with the entry on its own, in a task with this spec (nil: nothing).
    func problem(spec: TaskSpec) -> String? {
        guard spec.kind.kindName == taskKind else { return "a \(taskKind.rawValue) entry in a \(spec.kind.name) task" }
        return entry.problem(spec: spec)
    }

    func encode(to writer: inout WireWriter) { entry.encode(to: &writer) }

    /// Reads the body of a kind's entry whose tag is `kind`.
    static func decode(_ kind: TaskEntryKind, from reader: inout WireReader) throws -> ProgramEntry {
        switch kind {
        case .announce, .commit, .report: return .federated(try FederatedEntry.decode(kind, from: &reader))
        case .deploy: return .jointInference(try JointInferenceEntry.decode(kind, from: &reader))
        case .jobStep, .stageResult, .rollback: return .incremental(try IncrementalEntry.decode(kind, from: &reader))
        case .lease, .cancel, .complete, .replicated, .fail:
            preconditionFailure("\(kind) is a host entry, not a program's")
        }
    }
}

/// What the host asks of every kind's entries (`ProgramEntry`); a kind's entry enum conforms.
protocol KindEntry {
    /// The entry's wire tag (a kind appends its own to `TaskEntryKind`).
    var kind: TaskEntryKind { get }
    var taskKind: TaskKindName { get }
    var requiredRole: Roles { get }
    var lineCommit: CommitRef? { get }
    var holderStep: HolderStep? { get }
    var slot: EntrySlot? { get }
    /// The rules the entry keeps on its own, in a task of its kind with this spec.
    func problem(spec: TaskSpec) -> String?
    func encode(to writer: inout WireWriter)
}

/// An (epoch, round) a lease holder's entry is about.
public struct HolderStep: Hashable, Sendable {
    public let epoch: UInt64
    public let round: UInt64

    public init(epoch: UInt64, round: UInt64) {
        self.epoch = epoch
        self.round = round
    }
}

/// Which slot an entry fills, and how far along it is (later wins).
public struct EntrySlot: Hashable, Sendable {
    public let key: String
    public let progress: EntryProgress

    public init(key: String, progress: EntryProgress) {
        self.key = key
        self.progress = progress
    }
}

/// Three numbers compared in order (for a report: epoch, round, state).
public struct EntryProgress: Hashable, Sendable, Comparable {
    public let first: UInt64, second: UInt64, third: UInt64

    public init(_ first: UInt64, _ second: UInt64, _ third: UInt64) {
        self.first = first
        self.second = second
        self.third = third
    }

    public static func < (left: EntryProgress, right: EntryProgress) -> Bool {
        (left.first, left.second, left.third) < (right.first, right.second, right.third)
    }
}
