/// What the peer answers a worker's `worker-poll`: `{"job":KIND, …fields}` (docs/workers.md,
/// "Protocol"). A job kind a worker's Lib does not know is a clear decoding error (a Lib older
/// than its peer), never taken for another.
public enum WorkerJob: Equatable, Sendable {
    /// Nothing to do yet: poll again after about 50 ms.
    case wait
    /// Train a round and submit the update (`worker-submit`) or fail it (`worker-fail`).
    case train(TrainJob)
    /// Score a global model and send the scores (`worker-evaluated`): central evaluators only.
    case evaluate(EvaluateJob)
    /// The task ended here, or the worker is no longer placed on this peer: finish up and exit 0.
    case stop

    public enum Kind: String, CaseIterable, Sendable {
        case wait, train, evaluate, stop
    }

    public var kind: Kind {
        switch self {
        case .wait: .wait
        case .train: .train
        case .evaluate: .evaluate
        case .stop: .stop
        }
    }
}

/// A round to train: announced by the coordinator of lease epoch `epoch`.
public struct TrainJob: Codable, Equatable, Sendable {
    public var epoch: UInt64
    public var round: UInt64
    /// The global model's file (absolute); nil in round 1 without a starting model.
    public var model: String?
    /// Report a validation metric (accuracy) of the global model with this round's update.
    public var validate: Bool
    /// Unix seconds on the coordinator's clock: the round closes then.
    public var deadline: UInt64

    public init(epoch: UInt64, round: UInt64, model: String?, validate: Bool, deadline: UInt64) {
        self.epoch = epoch
        self.round = round
        self.model = model
        self.validate = validate
        self.deadline = deadline
    }

    enum CodingKeys: String, CodingKey { case epoch, round, model, validate, deadline }

    /// `model` is written as null in round 1, as docs/workers.md shows.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(epoch, forKey: .epoch)
        try container.encode(round, forKey: .round)
        if let model { try container.encode(model, forKey: .model) } else { try container.encodeNil(forKey: .model) }
        try container.encode(validate, forKey: .validate)
        try container.encode(deadline, forKey: .deadline)
    }
}

/// A global model to score: the model committed for round `round` of epoch `epoch`.
public struct EvaluateJob: Codable, Equatable, Sendable {
    public var epoch: UInt64
    public var round: UInt64
    /// The model's file (absolute).
    public var model: String

    public init(epoch: UInt64, round: UInt64, model: String) {
        self.epoch = epoch
        self.round = round
        self.model = model
    }
}

extension WorkerJob: Codable {
    enum CodingKeys: String, CodingKey { case job }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind.rawValue, forKey: .job)
        switch self {
        case .wait, .stop: break
        case let .train(job): try job.encode(to: encoder)
        case let .evaluate(job): try job.encode(to: encoder)
        }
    }

    /// Throws `LocalAPI.Invalid` for a job kind this version does not know or a job missing a field.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let name = try? container.decode(String.self, forKey: .job) else {
            throw LocalAPI.Invalid(#"the peer's answer to worker-poll has no "job""#)
        }
        guard let kind = Kind(rawValue: name) else {
            throw LocalAPI.Invalid("the peer asks for a job of kind '\(name)', which this worker Lib does not know "
                + "(it knows \(Kind.allCases.map(\.rawValue).joined(separator: ", "))): use the Lib of the peer's version")
        }
        do {
            switch kind {
            case .wait: self = .wait
            case .stop: self = .stop
            case .train: self = .train(try TrainJob(from: decoder))
            case .evaluate: self = .evaluate(try EvaluateJob(from: decoder))
            }
        } catch let error as DecodingError {
            throw LocalAPI.Invalid(LocalAPI.describe(error, decoding: "the peer's \(name) job"))
        }
    }
}
