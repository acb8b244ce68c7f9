import StarlingCrypto
import StarlingTrust
import StarlingWire

/// What an entry says about its task. The host's entries (leases, cancel, completion,
/// replication, failure) mean the same for every kind; a kind's own entries are nested under
/// `.program` (`ProgramEntry`). Who may sign each is part of its meaning (`TaskEntry.requiredRole`,
/// docs/tasks.md, "Replicated state, leases and the line of rounds").
public enum TaskEntryBody: Hashable, Sendable {
    /// A coordinator claims or renews the task under an epoch.
    case lease(Lease)
    /// A submitter stops the task.
    case cancel(reason: String)
    /// The lease holder declares the task done at this commit.
    case complete(CommitRef)
    /// A coordinator candidate holds what it needs to resume from this commit.
    case replicated(CommitRef)
    /// The lease holder fails the task: its program found it cannot go on.
    case fail(TaskFailure)
    /// An entry of the task's kind (a FederatedTask's announce, commit, report...).
    case program(ProgramEntry)

    public var kind: TaskEntryKind {
        switch self {
        case .lease: return .lease
        case .cancel: return .cancel
        case .complete: return .complete
        case .replicated: return .replicated
        case .fail: return .fail
        case let .program(entry): return entry.kind
        }
    }

    /// The kind's entry, when this is one.
    public var program: ProgramEntry? {
        if case let .program(entry) = self { return entry }
        return nil
    }
}

/// The wire tags of entries (append-only, pinned by a test). Tags 1 and 5-8 are the host's;
/// 2-4 are FederatedTask's; a new kind appends its own (`ProgramEntry`).
public enum TaskEntryKind: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case lease = 1, announce = 2, commit = 3, report = 4, cancel = 5, complete = 6, replicated = 7, fail = 8, deploy = 9
    case jobStep = 10, stageResult = 11, rollback = 12

    public var description: String {
        switch self {
        case .lease: return "lease"
        case .announce: return "announce"
        case .commit: return "commit"
        case .report: return "report"
        case .cancel: return "cancel"
        case .complete: return "complete"
        case .replicated: return "replicated"
        case .fail: return "fail"
        case .deploy: return "deploy"
        case .jobStep: return "job-step"
        case .stageResult: return "stage-result"
        case .rollback: return "rollback"
        }
    }
}

/// One signed statement about a task, relayed unchanged from peer to peer.
///
/// The signature covers a domain-separation context, the task id, the author and the body, so an
/// entry cannot be moved to another task, credited to another author or replayed as another kind
/// of record. Entries are identified by the hash of their encoding (`hash`); equal hashes mean
/// equal entries.
public struct TaskEntry: Hashable, Sendable, WireCodable {
    public static let signingContext = Array("starling/task-entry/v1".utf8)

    public let task: TaskID
    public let author: NodeID
    public let body: TaskEntryBody
    public let signature: Signature
    /// BLAKE2b-256 of the entry's encoding: its name in digests, sets and stores.
    public let hash: ContentHash

    public init(task: TaskID, author: NodeID, body: TaskEntryBody, signature: Signature) {
        self.task = task
        self.author = author
        self.body = body
        self.signature = signature
        var writer = WireWriter(capacity: 256)
        Self.encodeFields(task: task, author: author, body: body, to: &writer)
        writer.write(signature)
        hash = ContentHash.of(writer.bytes)
    }

    /// Signs `body` about `task` with `key`; the author is the key's node.
    public static func sign(_ body: TaskEntryBody, task: TaskID, with key: SigningKey) -> TaskEntry {
        let author = NodeID(key.publicKey)
        let signature = key.sign(bytesToSign(task: task, author: author, body: body))
        return TaskEntry(task: task, author: author, body: body, signature: signature)
    }

    public static func bytesToSign(task: TaskID, author: NodeID, body: TaskEntryBody) -> [UInt8] {
        var writer = WireWriter(capacity: 256)
        writer.writeFixed(signingContext)
        encodeFields(task: task, author: author, body: body, to: &writer)
        return writer.bytes
    }

    public var signedBytes: [UInt8] { Self.bytesToSign(task: task, author: author, body: body) }
    public var kind: TaskEntryKind { body.kind }

    public static func == (left: TaskEntry, right: TaskEntry) -> Bool { left.hash == right.hash }
    public func hash(into hasher: inout Hasher) { hasher.combine(hash) }

    static func encodeFields(task: TaskID, author: NodeID, body: TaskEntryBody, to writer: inout WireWriter) {
        writer.write(task)
        writer.write(author)
        body.encode(to: &writer)
    }

    public func encode(to writer: inout WireWriter) {
        Self.encodeFields(task: task, author: author, body: body, to: &writer)
        writer.write(signature)
    }

    public init(from reader: inout WireReader) throws {
        let task = try reader.read(TaskID.self)
        let author = try reader.read(NodeID.self)
        let body = try reader.read(TaskEntryBody.self)
        let signature = try reader.read(Signature.self)
        self.init(task: task, author: author, body: body, signature: signature)
    }
}
