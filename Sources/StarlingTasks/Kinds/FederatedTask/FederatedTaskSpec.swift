import StarlingLearning

/// `kind: FederatedTask`: training workers train on their own data, the elected coordinator
/// aggregates their updates round after round.
public struct FederatedTaskSpec: Sendable, Equatable {
    public var aggregationWorker: AggregationWorker
    /// In the order written; names unique; at least one, at most `TaskSpecLimits.workersMax`.
    public var trainingWorkers: [TrainingWorker]
    public var rounds: RoundSettings

    public init(aggregationWorker: AggregationWorker, trainingWorkers: [TrainingWorker], rounds: RoundSettings) {
        self.aggregationWorker = aggregationWorker
        self.trainingWorkers = trainingWorkers
        self.rounds = rounds
    }
}

/// `spec.aggregationWorker`: the aggregation that the task's coordinator runs.
public struct AggregationWorker: Sendable, Equatable {
    /// Default when the spec names none.
    public static let defaultName = "aggregation-worker"

    public var name: String
    /// `model.name`: the model the task trains.
    public var model: ModelRef?
    /// Stored in its canonical spelling.
    public var algorithm: AggregationAlgorithm
    /// Parameters Starling does not interpret (sorted by key), passed to the aggregation.
    public var extraParameters: [Parameter]
    /// `evaluation.dataset.name`: central evaluation (Flower's `evaluate_fn`): the coordinator
    /// scores each new global model on this dataset of its own every `rounds_between_validations`
    /// rounds and in the last, with the training workers' script; nil: no central evaluation.
    public var evaluationDataset: DatasetRef?

    public init(name: String = AggregationWorker.defaultName, model: ModelRef? = nil,
                algorithm: AggregationAlgorithm = .defaultAlgorithm, extraParameters: [Parameter] = [],
                evaluationDataset: DatasetRef? = nil) {
        self.name = name
        self.model = model
        self.algorithm = algorithm
        self.extraParameters = extraParameters.sorted()
        self.evaluationDataset = evaluationDataset
    }
}

/// One entry of `spec.trainingWorkers`, after inheritance from the first worker.
public struct TrainingWorker: Sendable, Equatable {
    /// A DNS-1123 label, unique in the task.
    public var name: String
    /// The peer that runs this worker; nil: the cluster picks a live peer holding `dataset`.
    public var nodeName: String?
    public var dataset: DatasetRef
    public var script: ScriptSpec
    public var hyperparameters: Hyperparameters
    /// Parameters Starling does not interpret (sorted by key), passed to the worker.
    public var extraParameters: [Parameter]

    public init(name: String, nodeName: String? = nil, dataset: DatasetRef, script: ScriptSpec,
                hyperparameters: Hyperparameters = Hyperparameters(), extraParameters: [Parameter] = []) {
        self.name = name
        self.nodeName = nodeName
        self.dataset = dataset
        self.script = script
        self.hyperparameters = hyperparameters
        self.extraParameters = extraParameters.sorted()
    }

    /// How the worker finds its peer.
    public var placement: WorkerPlacement {
        nodeName.map(WorkerPlacement.node) ?? .byDataset(dataset.name)
    }
}

/// Where a training worker runs.
public enum WorkerPlacement: Sendable, Equatable, CustomStringConvertible {
    /// On the named peer.
    case node(String)
    /// On a live peer that holds the dataset ("placement: by dataset").
    case byDataset(String)

    public var description: String {
        switch self {
        case let .node(name): return "placement: node \(name)"
        case let .byDataset(dataset): return "placement: by dataset \(dataset)"
        }
    }
}

/// The training parameters Starling reads (`batch_size`, `learning_rate`, `epochs`).
public struct Hyperparameters: Sendable, Equatable {
    public var batchSize: Int
    /// Finite and greater than 0.
    public var learningRate: Double
    /// Local epochs per round.
    public var epochs: Int

    public init(batchSize: Int = TaskDefaults.batchSize, learningRate: Double = TaskDefaults.learningRate,
                epochs: Int = TaskDefaults.epochs) {
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.epochs = epochs
    }
}

/// How the rounds run (`rounds`, `min_node_number`, `round_timeout`, `rounds_between_validations`,
/// `round_retries`).
public struct RoundSettings: Sendable, Equatable {
    public var rounds: Int
    /// Updates needed to aggregate a round before its deadline: 1 ... number of training workers.
    public var minNodeNumber: Int
    /// A whole number of milliseconds in `TaskSpecLimits.roundTimeoutMin ... roundTimeoutMax`.
    public var roundTimeout: Duration
    public var roundsBetweenValidations: Int
    /// Announcements of one round after the first whose deadline may pass with fewer than
    /// `minNodeNumber` updates; at the next such deadline the coordinator fails the task, saying why.
    public var roundRetries: Int

    public init(rounds: Int = TaskDefaults.rounds, minNodeNumber: Int, roundTimeout: Duration = TaskDefaults.roundTimeout,
                roundsBetweenValidations: Int = TaskDefaults.roundsBetweenValidations,
                roundRetries: Int = TaskDefaults.roundRetries) {
        self.rounds = rounds
        self.minNodeNumber = minNodeNumber
        self.roundTimeout = roundTimeout
        self.roundsBetweenValidations = roundsBetweenValidations
        self.roundRetries = roundRetries
    }
}
