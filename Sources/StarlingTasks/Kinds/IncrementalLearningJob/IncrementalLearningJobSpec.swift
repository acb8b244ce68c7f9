/// `kind: IncrementalLearningJob` (after KubeEdge Sedna's CRD of that name): retrain a deployed model
/// on new data when a trigger fires, evaluate it, and deploy it when the deploy trigger fires.
public struct IncrementalLearningJobSpec: Sendable, Equatable {
    public var initialModel: ModelRef
    public var dataset: IncrementalDataset
    /// `outputDir`: where trained models are written, as written.
    public var outputDirectory: String?
    public var trainSpec: IncrementalTrainSpec
    public var evalSpec: IncrementalEvalSpec
    public var deploySpec: IncrementalDeploySpec

    public init(initialModel: ModelRef, dataset: IncrementalDataset, outputDirectory: String? = nil,
                trainSpec: IncrementalTrainSpec, evalSpec: IncrementalEvalSpec, deploySpec: IncrementalDeploySpec) {
        self.initialModel = initialModel
        self.dataset = dataset
        self.outputDirectory = outputDirectory
        self.trainSpec = trainSpec
        self.evalSpec = evalSpec
        self.deploySpec = deploySpec
    }
}

/// `spec.dataset`: the dataset and the share of it used for training (the rest evaluates).
public struct IncrementalDataset: Sendable, Equatable {
    public static let defaultTrainProbability = 0.8

    public var name: String
    /// `trainProb`, in (0, 1].
    public var trainProbability: Double

    public init(name: String, trainProbability: Double = IncrementalDataset.defaultTrainProbability) {
        self.name = name
        self.trainProbability = trainProbability
    }
}

/// `spec.trainSpec`.
public struct IncrementalTrainSpec: Sendable, Equatable {
    /// nil: a live peer holding the dataset.
    public var nodeName: String?
    public var workerSpec: WorkerSpec
    public var trigger: Trigger

    public init(nodeName: String? = nil, workerSpec: WorkerSpec, trigger: Trigger) {
        self.nodeName = nodeName
        self.workerSpec = workerSpec
        self.trigger = trigger
    }
}

/// `spec.evalSpec`.
public struct IncrementalEvalSpec: Sendable, Equatable {
    /// nil: the cycle's training peers.
    public var nodeName: String?
    public var workerSpec: WorkerSpec
    /// `initialEvalModel.name`: what the first candidate is compared with, in place of the initial model.
    public var initialEvalModel: ModelRef?

    public init(nodeName: String? = nil, workerSpec: WorkerSpec, initialEvalModel: ModelRef? = nil) {
        self.nodeName = nodeName
        self.workerSpec = workerSpec
        self.initialEvalModel = initialEvalModel
    }
}

/// `spec.deploySpec`.
public struct IncrementalDeploySpec: Sendable, Equatable {
    public var model: ModelRef
    /// `model.hotUpdateEnabled`: a new version is loaded into the running inference worker (no
    /// restart, no request dropped); false (Sedna's default): the worker is restarted on it.
    public var hotUpdateEnabled: Bool
    /// `model.pollPeriodSeconds`: a deploy peer whose worker could not load the current version
    /// asks again this often (versions themselves arrive by gossip, not by polling).
    public var pollPeriodSeconds: Int
    public static let defaultPollPeriodSeconds = 60
    /// nil: a live peer that matches `spec.placement`.
    public var nodeName: String?
    public var workerSpec: WorkerSpec
    public var trigger: Trigger
    public var hardExampleMining: HardExampleMining?

    public init(model: ModelRef, hotUpdateEnabled: Bool = false, pollPeriodSeconds: Int = IncrementalDeploySpec.defaultPollPeriodSeconds,
                nodeName: String? = nil, workerSpec: WorkerSpec, trigger: Trigger, hardExampleMining: HardExampleMining? = nil) {
        self.model = model
        self.hotUpdateEnabled = hotUpdateEnabled
        self.pollPeriodSeconds = pollPeriodSeconds
        self.nodeName = nodeName
        self.workerSpec = workerSpec
        self.trigger = trigger
        self.hardExampleMining = hardExampleMining
    }
}

/// When a stage starts: every `checkPeriodSeconds`, inside the optional daily window, check
/// `metric operator threshold`.
public struct Trigger: Sendable, Equatable {
    public static let defaultCheckPeriodSeconds = 60

    public var checkPeriodSeconds: Int
    public var timer: TriggerTimer?
    public var condition: TriggerCondition

    public init(checkPeriodSeconds: Int = Trigger.defaultCheckPeriodSeconds, timer: TriggerTimer? = nil, condition: TriggerCondition) {
        self.checkPeriodSeconds = checkPeriodSeconds
        self.timer = timer
        self.condition = condition
    }
}

/// A daily window `start`...`end` (`HH:MM`, UTC), as minutes after midnight. `end` before `start`
/// spans midnight.
public struct TriggerTimer: Sendable, Equatable {
    public var startMinute: Int
    public var endMinute: Int

    public init(startMinute: Int, endMinute: Int) {
        self.startMinute = startMinute
        self.endMinute = endMinute
    }
}

/// `metric operator threshold`, e.g. `num_of_samples > 500`.
public struct TriggerCondition: Sendable, Equatable {
    public var metric: String
    public var comparison: Comparison
    /// Finite.
    public var threshold: Double

    /// Appended cases go at the end: the raw value is what the signed spec carries.
    public enum Comparison: String, Sendable, CaseIterable {
        case greater = ">", greaterOrEqual = ">=", less = "<", lessOrEqual = "<=", equal = "=", notEqual = "!="

        /// Every spelling Sedna accepts: `gt`/`>`, `ge`/`>=`, `eq`/`=`/`==`, `ne`/`!=`, `le`/`<=`, `lt`/`<`.
        public init?(spelling: String) {
            switch spelling {
            case "gt", ">": self = .greater
            case "ge", ">=": self = .greaterOrEqual
            case "eq", "=", "==": self = .equal
            case "ne", "!=": self = .notEqual
            case "le", "<=": self = .lessOrEqual
            case "lt", "<": self = .less
            default: return nil
            }
        }

        public static let spellings = ["gt", ">", "ge", ">=", "eq", "=", "==", "ne", "!=", "le", "<=", "lt", "<"]
    }

    public init(metric: String, comparison: Comparison, threshold: Double) {
        self.metric = metric
        self.comparison = comparison
        self.threshold = threshold
    }
}
