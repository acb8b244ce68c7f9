/// The documented defaults (docs/tasks.md): what a parameter given without a value, or not given at
/// all, means.
public enum TaskDefaults {
    public static let batchSize = 32
    public static let learningRate = 0.01
    /// Local epochs per round.
    public static let epochs = 1
    public static let rounds = 10
    public static let roundTimeout: Duration = .seconds(300)
    public static let roundsBetweenValidations = 1
    /// Announcements of a round after its first whose deadline may pass short of
    /// `min_node_number` updates before the task fails (docs/tasks.md, "Rounds").
    public static let roundRetries = 3
    // min_node_number defaults to the number of training workers: see RoundSettings.
}

/// The parameters Starling reads itself. Any other key is kept and passed to the worker.
public enum KnownParameter: String, Sendable, CaseIterable {
    case batchSize = "batch_size"
    case learningRate = "learning_rate"
    case epochs
    case minNodeNumber = "min_node_number"
    case rounds
    case roundTimeout = "round_timeout"
    case roundsBetweenValidations = "rounds_between_validations"
    case roundRetries = "round_retries"

    /// The value's type, which decides how its text is read.
    public enum ValueType: Sendable {
        case integer(ClosedRange<Int>)
        case positiveReal
        case duration
    }

    public var valueType: ValueType {
        switch self {
        case .batchSize: return .integer(1...1_000_000)
        case .learningRate: return .positiveReal
        case .epochs: return .integer(1...10_000)
        // The upper bound (number of workers) is checked once the workers are known.
        case .minNodeNumber: return .integer(1...TaskSpecLimits.workersMax)
        case .rounds, .roundsBetweenValidations: return .integer(1...TaskSpecLimits.roundsMax)
        case .roundTimeout: return .duration
        case .roundRetries: return .integer(0...TaskSpecLimits.roundRetriesMax)
        }
    }

    /// Whether the parameter belongs to the whole task (set on the aggregation worker or as a
    /// `spec` field) rather than to each training worker.
    public var isTaskSetting: Bool {
        switch self {
        case .batchSize, .learningRate, .epochs: return false
        case .minNodeNumber, .rounds, .roundTimeout, .roundsBetweenValidations, .roundRetries: return true
        }
    }

    /// The Starling addition's name as a plain field under `spec`, e.g. `spec.rounds`.
    public var specField: String? {
        switch self {
        case .batchSize, .learningRate, .epochs: return nil
        case .minNodeNumber: return "minNodeNumber"
        case .rounds: return "rounds"
        case .roundTimeout: return "roundTimeout"
        case .roundsBetweenValidations: return "roundsBetweenValidations"
        case .roundRetries: return "roundRetries"
        }
    }
}
