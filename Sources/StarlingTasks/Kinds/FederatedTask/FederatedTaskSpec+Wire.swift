import StarlingLearning
import StarlingWire

extension FederatedTaskSpec: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.write(aggregationWorker)
        writer.writeList(trainingWorkers)
        writer.write(rounds)
    }

    public init(from reader: inout WireReader) throws {
        let aggregation = try reader.read(AggregationWorker.self)
        let workers = try reader.readList(TrainingWorker.self, field: "training workers", limit: TaskSpecLimits.workersMax)
        guard !workers.isEmpty else { throw WireError.invalidField("a federated task needs at least one training worker") }
        var names: Set<String> = [aggregation.name]
        for worker in workers {
            guard names.insert(worker.name).inserted else { throw WireError.invalidField("worker name \(worker.name) is not unique") }
        }
        let rounds = try reader.read(RoundSettings.self)
        guard rounds.minNodeNumber <= workers.count else { throw WireError.invalidField("min_node_number exceeds the number of workers") }
        self.init(aggregationWorker: aggregation, trainingWorkers: workers, rounds: rounds)
    }
}

extension AggregationWorker: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeString(name)
        writer.writeOptional(model)
        writer.writeString(algorithm.rawValue)
        writer.writeList(extraParameters)
        writer.writeOptional(evaluationDataset)
    }

    public init(from reader: inout WireReader) throws {
        let name = try reader.readLabel("aggregation worker name")
        let model = try reader.readOptional(ModelRef.self, field: "aggregation model")
        let algorithmName = try reader.readString(field: "aggregation algorithm")
        guard let algorithm = AggregationAlgorithm(rawValue: algorithmName) else {
            throw WireError.invalidField("unknown aggregation algorithm \(algorithmName.clipped)")
        }
        let extras = try reader.readParameters("aggregation parameters")
        let evaluation = try reader.readOptional(DatasetRef.self, field: "evaluation dataset")
        self.init(name: name, model: model, algorithm: algorithm, extraParameters: extras, evaluationDataset: evaluation)
    }
}

extension TrainingWorker: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeString(name)
        writer.writeOptionalString(nodeName)
        writer.write(dataset)
        writer.write(script)
        writer.write(hyperparameters)
        writer.writeList(extraParameters)
    }

    public init(from reader: inout WireReader) throws {
        let name = try reader.readLabel("worker name")
        let nodeName = try reader.readOptionalText("nodeName", limit: TaskSpecLimits.tagBytesMax)
        let dataset = try reader.read(DatasetRef.self)
        let script = try reader.read(ScriptSpec.self)
        let hyperparameters = try reader.read(Hyperparameters.self)
        let extras = try reader.readParameters("worker parameters")
        self.init(name: name, nodeName: nodeName, dataset: dataset, script: script,
                  hyperparameters: hyperparameters, extraParameters: extras)
    }
}

extension Hyperparameters: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeCount(batchSize)
        writer.writeReal(learningRate)
        writer.writeCount(epochs)
    }

    public init(from reader: inout WireReader) throws {
        let batchSize = try reader.readInteger("batch_size", in: Self.range(.batchSize))
        let learningRate = try reader.readReal("learning_rate")
        guard learningRate > 0 else { throw WireError.invalidField("learning_rate must be greater than 0") }
        let epochs = try reader.readInteger("epochs", in: Self.range(.epochs))
        self.init(batchSize: batchSize, learningRate: learningRate, epochs: epochs)
    }

    static func range(_ parameter: KnownParameter) -> ClosedRange<Int> {
        if case let .integer(range) = parameter.valueType { return range }
        preconditionFailure("\(parameter.rawValue) is not an integer parameter")
    }
}

extension RoundSettings: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeCount(rounds)
        writer.writeCount(minNodeNumber)
        writer.writeDuration(roundTimeout)
        writer.writeCount(roundsBetweenValidations)
        writer.writeCount(roundRetries)
    }

    public init(from reader: inout WireReader) throws {
        let rounds = try reader.readInteger("rounds", in: Hyperparameters.range(.rounds))
        let minimum = try reader.readInteger("min_node_number", in: Hyperparameters.range(.minNodeNumber))
        let timeout = try reader.readDuration("round_timeout", in: TaskSpecLimits.roundTimeoutMin...TaskSpecLimits.roundTimeoutMax)
        let validations = try reader.readInteger("rounds_between_validations", in: Hyperparameters.range(.roundsBetweenValidations))
        let retries = try reader.readInteger("round_retries", in: Hyperparameters.range(.roundRetries))
        self.init(rounds: rounds, minNodeNumber: minimum, roundTimeout: timeout, roundsBetweenValidations: validations,
                  roundRetries: retries)
    }
}
