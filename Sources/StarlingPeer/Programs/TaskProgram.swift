import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust

/// A kind of task, as the peer runs it: the pure functions that decide what the coordinator and a
/// participant do next and what to make of a finished piece of work. The host (`Peer+TaskHost`)
/// keeps everything kinds share (the signed spec, adverts, pulls and pushes, election, leases and
/// epochs, fencing, replication before commit, cancel, completion, persistence) and calls a
/// program only for a task of its kind, with a valid lease. A program reads its peer through
/// `TaskHost`, keeps its own unreplicated state in `Local`, and answers with `ProgramEffect`s,
/// which the host performs in order. It never signs, sends or counts anything itself.
protocol TaskProgram {
    /// The kind's own part of the spec.
    associatedtype Spec
    /// What the program remembers about one task between calls (rounds in progress, work asked
    /// for); dropped when the task is released, rebuilt from the replicated state after a restart.
    associatedtype Local: Sendable
    /// The driver's answers to the kind's work.
    associatedtype WorkResult

    /// This peer holds the task's current lease: move the task on.
    static func coordinate(_ task: ProgramTask<Spec>, host: some TaskHost, local: inout Local) -> [ProgramEffect]
    /// Any peer, each time the task is driven under a valid lease: do this peer's share.
    static func participate(_ task: ProgramTask<Spec>, host: some TaskHost, local: inout Local) -> [ProgramEffect]
    /// The driver finished a piece of the kind's work for the task.
    static func workDone(_ result: WorkResult, task: ProgramTask<Spec>, host: some TaskHost, local: inout Local) -> [ProgramEffect]
    /// Which of the candidates that may coordinate should (e.g. those holding an evaluation dataset).
    static func coordinators(_ candidates: [CoordinatorElection.Candidate], spec: Spec, host: some TaskHost)
        -> [CoordinatorElection.Candidate]

    /// Fills the kind's part of what `starling task list|status` show (rounds, participants,
    /// metrics...); the host has filled the rest.
    static func summarize(_ task: ProgramTask<Spec>, into summary: inout TaskSummary, host: some TaskHost)

    /// The kind's part of a spec (nil: a spec of another kind).
    static func spec(of spec: TaskSpec) -> Spec?
    /// The program's `Local` as the host keeps it (`ProgramLocal`), and back (a fresh one when the
    /// host holds none, or one of another kind).
    static func held(_ local: Local) -> ProgramLocal
    static func local(_ held: ProgramLocal?) -> Local
}

/// A task as a program sees it when called.
struct ProgramTask<Spec> {
    let id: TaskID
    let state: TaskState
    let view: TaskView
    /// The kind's part of `state.spec`.
    let spec: Spec
    /// The current lease (valid when `coordinate` or `participate` is called).
    let lease: Lease?
    let now: Instant
    /// Unix seconds on this peer's clock.
    let unix: UInt64

    var name: String { state.spec.name }
}

/// What a program may read of its peer. `Peer` conforms; tests may supply their own.
protocol TaskHost {
    var me: NodeID { get }
    var taskSettings: TaskSettings { get }
    /// This peer and every member membership holds alive.
    var aliveNodes: [NodeID] { get }
    func tags(of node: NodeID) -> [String: String]
    func name(of node: NodeID) -> String?
    /// Where a node's blobs can be fetched (nil: not a member this peer knows).
    func blobSource(_ node: NodeID) -> BlobSource?
    /// Whether the driver said it holds this model (`TaskWorkResult.modelHeld`).
    func holdsModel(_ hash: ContentHash) -> Bool
    /// The signed commit entry of the task's last committed round, if held.
    func lastCommitEntry(of id: TaskID) -> TaskEntry?
    /// Whether membership holds `node` up (alive or suspect; this peer always is).
    func isUp(_ node: NodeID) -> Bool
    /// The latest committed model of the FederatedTask named `name` (a completed one first), and
    /// the peers that hold it (its committer and the candidates that replicated it).
    func committedModel(ofTaskNamed name: String) -> (model: ContentHash, holders: [NodeID])?
}

/// What a program asks its host to do (one of the effects a core asks its driver for; see the
/// glossary in docs/architecture.md).
enum ProgramEffect {
    /// Sign `body` as this peer and merge it into the task; when it is new, push it (after
    /// `along`) to `pushTo` ahead of gossip, count `counter`, and log `log`.
    case sign(TaskEntryBody, along: [TaskEntry] = [], pushTo: [NodeID] = [], counter: String? = nil,
              log: (LogLevel, String)? = nil)
    /// Commit an entry of the task's line (`ProgramEntry.lineCommit`): pushed to the next
    /// coordinator candidates first, merged and spread once they hold it (`Peer+CommitReplication`),
    /// then `log` is logged.
    case commit(ProgramEntry, log: String)
    /// Give the driver work for the task (the task is then released once it ends).
    case work(TaskWork)
    /// The driver holds this model now (it made it for the task).
    case holdsModel(ContentHash)
    case count(String, by: UInt64 = 1)
    case log(LogLevel, String)
}
