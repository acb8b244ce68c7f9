/// Every size limit of the replicated task state, in one place.
///
/// Entries are signed by one peer and replicated to all, so each field and each collection is
/// bounded: a careless or hostile certified peer cannot make the others allocate without limit.
public enum TaskStateLimits {
    /// Largest canonical encoding of a task spec inside a `SignedTaskSpec` (the YAML file is at most
    /// `TaskSpecLimits.specBytesMax` too, and its encoding is smaller than its text).
    public static let specBytesMax = TaskSpecLimits.specBytesMax
    /// Most entries one task keeps. A safety bound against a flood, far above a normal task (one
    /// lease per failover, one announce and one commit per round, a few reports per worker): at the
    /// bound new entries are refused, and replicas may then differ (see `TaskState.merge`).
    public static let entriesMax = 100_000
    /// Reports kept per worker: the latest ones (by epoch, round, state). Older ones are dropped.
    public static let reportsPerWorkerMax = 4
    /// Most participants of an announcement or a commit (as many as a task has training workers).
    public static let participantsMax = TaskSpecLimits.workersMax
    /// Peers a JointInferenceService deployment lists in each role (each is 32 bytes of the entry).
    public static let servingPeersMax = 256
    /// Peers an IncrementalLearningJob's train or eval stage runs on (each is 32 bytes and a row count).
    public static let stagePeersMax = 256
    /// Classes of a confusion matrix in a job's entries (a matrix is classes² counts; 64 classes
    /// of counts up to a million are about 12 KiB).
    public static let evaluationClassesMax = 64
    /// Most metrics in one commit.
    public static let metricsMax = 16
    /// Longest metric name, in UTF-8 bytes.
    public static let metricNameBytesMax = 64
    /// Longest worker name (a DNS-1123 label, as in the spec).
    public static let workerNameBytesMax = TaskSpecLimits.labelBytesMax
    /// Longest report message or cancel reason, in UTF-8 bytes.
    public static let messageBytesMax = 256
    /// Longest reason of a task failure: room for several workers, their peers and last errors.
    public static let failureBytesMax = 1_024
    /// Highest round number (as many as a task may have rounds).
    public static let roundMax = UInt64(TaskSpecLimits.roundsMax)
    /// Highest declared capacity a lease may carry (capacities are relative weights; this keeps a
    /// single peer from claiming an absurd share of every election).
    public static let capacityMax = 1_000_000.0
}
