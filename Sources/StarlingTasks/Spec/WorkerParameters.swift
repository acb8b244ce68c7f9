import StarlingLearning

/// A parameter's value as a training worker receives it in `STARLING_PARAMETERS` (docs/workers.md):
/// typed by the spec's own scalar rules, so a custom value reads as a known one would.
public enum WorkerValue: Sendable, Equatable {
    /// A whole number (`32`, `-1`, `"32"`).
    case integer(Int)
    /// A finite decimal that is not a whole number as written (`0.5`, `1e-3`, `1.12`).
    case number(Double)
    /// `true` or `false` (also `True`, `TRUE`, `False`, `FALSE`, YAML's core spellings).
    case boolean(Bool)
    /// Any other text, as written.
    case text(String)
    /// A key given without a value.
    case none

    /// The value of a parameter written as `text` (nil: given without a value).
    public init(_ text: String?) {
        guard let text else {
            self = .none
            return
        }
        if let integer = ScalarText.integer(text) {
            self = .integer(integer)
        } else if let real = ScalarText.real(text) {
            self = .number(real)
        } else if ["true", "True", "TRUE"].contains(text) {
            self = .boolean(true)
        } else if ["false", "False", "FALSE"].contains(text) {
            self = .boolean(false)
        } else {
            self = .text(text)
        }
    }
}

/// What one training worker of a FederatedTask is given as `STARLING_PARAMETERS`, key by key:
///
/// - `batch_size`, `learning_rate`, `epochs` (its own value, else the aggregation worker's, else
///   the default), `rounds`, `aggregation` (the algorithm's name), `proximal_mu` (the
///   aggregation's, else 0);
/// - then its own other keys (with those inherited from the first worker);
/// - then the aggregation worker's custom keys (neither Starling's nor the aggregation's own
///   parameters): task-wide values that every worker gets unless its own list sets them.
///
/// A key already given is not replaced by a later source.
public enum WorkerParameters {
    public static func values(for worker: TrainingWorker, of task: FederatedTaskSpec) -> [String: WorkerValue] {
        var values: [String: WorkerValue] = [
            KnownParameter.batchSize.rawValue: .integer(worker.hyperparameters.batchSize),
            KnownParameter.learningRate.rawValue: .number(worker.hyperparameters.learningRate),
            KnownParameter.epochs.rawValue: .integer(worker.hyperparameters.epochs),
            KnownParameter.rounds.rawValue: .integer(task.rounds.rounds),
            "aggregation": .text(task.aggregationWorker.algorithm.rawValue),
        ]
        let mu = task.aggregationWorker.extraParameters.first { $0.key == "proximal_mu" }?.value.flatMap(ScalarText.real)
        values["proximal_mu"] = .number(mu ?? 0)
        for parameter in worker.extraParameters where values[parameter.key] == nil {
            values[parameter.key] = WorkerValue(parameter.value)
        }
        for parameter in customTaskParameters(task) where values[parameter.key] == nil {
            values[parameter.key] = WorkerValue(parameter.value)
        }
        return values
    }

    /// The aggregation worker's parameters that neither Starling nor the aggregation reads.
    public static func customTaskParameters(_ task: FederatedTaskSpec) -> [Parameter] {
        task.aggregationWorker.extraParameters.filter { !AggregationAlgorithm.readsParameter($0.key) }
    }
}
