/// An IncrementalLearningJob's part of a `TaskReport`: where the job is, the model versions it
/// deployed with their lineage and metrics, the latest steps of its history, and what only the
/// answering peer knows (its last train-trigger check as coordinator, why the job waits, what it
/// serves as a deploy peer). docs/cli.md, "task status of an IncrementalLearningJob".
public struct JobReport: Codable, Equatable, Sendable {
    /// One deployed model version (`starling model versions`).
    public struct Version: Codable, Equatable, Sendable {
        public var version: UInt64
        /// The model's hash (64 hex).
        public var model: String
        /// The version it was trained from (0 for the initial model).
        public var parent: UInt64
        public var cycle: UInt64
        /// Training rows it was trained on (all of them), and evaluation rows it was evaluated on.
        public var trainSamples: UInt64
        public var evalSamples: UInt64
        /// Unix seconds (the coordinator's clock) of its deploy step; absent when that step is older
        /// than the history the peer reports.
        public var deployedAt: UInt64?
        /// The candidate's macro values on the evaluation rows (`accuracy`, `precision`, `recall`,
        /// `f1`) and `<metric>_delta` (candidate − the version it was compared with); absent for the
        /// initial model, which nothing evaluated.
        public var metrics: [String: Double]?
        /// `precision`, `recall`, `f1` and their `_delta`s per class (index = class).
        public var perClass: [String: [Double]]?

        public init(version: UInt64, model: String, parent: UInt64, cycle: UInt64, trainSamples: UInt64, evalSamples: UInt64,
                    deployedAt: UInt64?, metrics: [String: Double]?, perClass: [String: [Double]]?) {
            self.version = version
            self.model = model
            self.parent = parent
            self.cycle = cycle
            self.trainSamples = trainSamples
            self.evalSamples = evalSamples
            self.deployedAt = deployedAt
            self.metrics = metrics
            self.perClass = perClass
        }
    }

    /// One step of the job's history, as its coordinator committed it.
    public struct Step: Codable, Equatable, Sendable {
        /// The line's round (the step's position) and the cycle it belongs to.
        public var round: UInt64
        public var cycle: UInt64
        /// The stage and status the step leaves the job in (train, eval, deploy; waiting, running,
        /// completed, failed).
        public var stage: String
        public var status: String
        /// Unix seconds on the coordinator's clock.
        public var at: UInt64
        /// What the step says, in one line ("eval completed on 80 rows: accuracy 0.9300 (+0.0500)…").
        public var text: String

        public init(round: UInt64, cycle: UInt64, stage: String, status: String, at: UInt64, text: String) {
            self.round = round
            self.cycle = cycle
            self.stage = stage
            self.status = status
            self.at = at
            self.text = text
        }
    }

    /// The cycle the job is in, its stage and status, and since when (unix seconds; absent before
    /// the first step).
    public var cycle: UInt64
    public var stage: String
    public var status: String
    public var since: UInt64?
    /// The version serving now (absent before the initial model is deployed).
    public var currentVersion: UInt64?
    /// Every version deployed, oldest first.
    public var versions: [Version]
    /// The latest steps, oldest first, and how many the job's line holds in all.
    public var history: [Step]
    public var steps: Int
    /// On the coordinator: what the last train-trigger check found, and why the job cannot move.
    public var trainCheck: String?
    public var waitingFor: String?
    /// Whether the answering peer is one of the job's deploy peers; there: the version it serves,
    /// or why it does not.
    public var deploysHere: Bool
    public var servedVersion: UInt64?
    public var servingFailure: String?
    /// What this peer's deploy worker answered since it started serving (requests, examples,
    /// hard examples, latency), when it serves the job.
    public var serving: ServingReport?
    /// The spec's dataset and the name the deployed model is served under.
    public var dataset: String
    public var deployModelName: String

    public init(cycle: UInt64, stage: String, status: String, since: UInt64?, currentVersion: UInt64?, versions: [Version],
                history: [Step], steps: Int, trainCheck: String?, waitingFor: String?, deploysHere: Bool, servedVersion: UInt64?,
                servingFailure: String?, dataset: String, deployModelName: String) {
        self.cycle = cycle
        self.stage = stage
        self.status = status
        self.since = since
        self.currentVersion = currentVersion
        self.versions = versions
        self.history = history
        self.steps = steps
        self.trainCheck = trainCheck
        self.waitingFor = waitingFor
        self.deploysHere = deploysHere
        self.servedVersion = servedVersion
        self.servingFailure = servingFailure
        self.dataset = dataset
        self.deployModelName = deployModelName
    }

    /// The current version's entry.
    public var current: Version? { currentVersion.flatMap { wanted in versions.first { $0.version == wanted } } }
}

/// `model-versions` ← the versions of one IncrementalLearningJob: the job named `name` (id, id
/// prefix of 8+ hex, or name), else the latest submitted job deploying a model named `name`.
public struct ModelVersionsResponse: Codable, Equatable, Sendable {
    /// The job's full id and name, and the model name it deploys.
    public var task: String
    public var name: String
    public var deployModelName: String
    public var currentVersion: UInt64?
    public var versions: [JobReport.Version]

    public init(task: String, name: String, deployModelName: String, currentVersion: UInt64?, versions: [JobReport.Version]) {
        self.task = task
        self.name = name
        self.deployModelName = deployModelName
        self.currentVersion = currentVersion
        self.versions = versions
    }
}
