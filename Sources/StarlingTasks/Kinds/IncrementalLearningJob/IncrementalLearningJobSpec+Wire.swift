import StarlingWire

extension IncrementalLearningJobSpec: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.write(initialModel)
        writer.write(dataset)
        writer.writeOptionalString(outputDirectory)
        writer.write(trainSpec)
        writer.write(evalSpec)
        writer.write(deploySpec)
    }

    public init(from reader: inout WireReader) throws {
        self.init(initialModel: try reader.read(), dataset: try reader.read(),
                  outputDirectory: try reader.readOptionalText("outputDir"),
                  trainSpec: try reader.read(), evalSpec: try reader.read(), deploySpec: try reader.read())
    }
}

extension IncrementalDataset: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeString(name)
        writer.writeReal(trainProbability)
    }

    public init(from reader: inout WireReader) throws {
        let name = try reader.readText("dataset name")
        let probability = try reader.readReal("trainProb")
        guard probability > 0 && probability <= 1 else { throw WireError.invalidField("trainProb must be in (0, 1]") }
        self.init(name: name, trainProbability: probability)
    }
}

extension IncrementalTrainSpec: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeOptionalString(nodeName)
        writer.write(workerSpec)
        writer.write(trigger)
    }

    public init(from reader: inout WireReader) throws {
        self.init(nodeName: try reader.readOptionalText("nodeName", limit: TaskSpecLimits.tagBytesMax),
                  workerSpec: try reader.read(), trigger: try reader.read())
    }
}

extension IncrementalEvalSpec: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeOptionalString(nodeName)
        writer.write(workerSpec)
        writer.writeOptional(initialEvalModel)
    }

    public init(from reader: inout WireReader) throws {
        self.init(nodeName: try reader.readOptionalText("nodeName", limit: TaskSpecLimits.tagBytesMax), workerSpec: try reader.read(),
                  initialEvalModel: try reader.readOptional(ModelRef.self, field: "initialEvalModel"))
    }
}

extension IncrementalDeploySpec: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.write(model)
        writer.write(hotUpdateEnabled)
        writer.writeCount(pollPeriodSeconds)
        writer.writeOptionalString(nodeName)
        writer.write(workerSpec)
        writer.write(trigger)
        writer.writeOptional(hardExampleMining)
    }

    public init(from reader: inout WireReader) throws {
        let model = try reader.read(ModelRef.self)
        let hot = try reader.readBool(field: "hotUpdateEnabled")
        let poll = try reader.readCount(field: "pollPeriodSeconds", limit: 86_400)
        guard poll >= 1 else { throw WireError.invalidField("pollPeriodSeconds must be at least 1") }
        self.init(model: model, hotUpdateEnabled: hot, pollPeriodSeconds: poll,
                  nodeName: try reader.readOptionalText("nodeName", limit: TaskSpecLimits.tagBytesMax),
                  workerSpec: try reader.read(), trigger: try reader.read(),
                  hardExampleMining: try reader.readOptional(HardExampleMining.self, field: "hardExampleMining"))
    }
}

extension Trigger: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeCount(checkPeriodSeconds)
        writer.writeOptional(timer)
        writer.write(condition)
    }

    public init(from reader: inout WireReader) throws {
        self.init(checkPeriodSeconds: try reader.readInteger("checkPeriodSeconds", in: 1...86_400),
                  timer: try reader.readOptional(TriggerTimer.self, field: "timer"), condition: try reader.read())
    }
}

extension TriggerTimer: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeCount(startMinute)
        writer.writeCount(endMinute)
    }

    public init(from reader: inout WireReader) throws {
        self.init(startMinute: try reader.readInteger("timer start", in: 0...1_439),
                  endMinute: try reader.readInteger("timer end", in: 0...1_439))
    }
}

extension TriggerCondition: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeString(metric)
        writer.writeString(comparison.rawValue)
        writer.writeReal(threshold)
    }

    public init(from reader: inout WireReader) throws {
        let metric = try reader.readText("metric")
        let text = try reader.readString(field: "operator", limit: 2)
        guard let comparison = Comparison(rawValue: text) else { throw WireError.invalidField("unknown operator") }
        self.init(metric: metric, comparison: comparison, threshold: try reader.readReal("threshold"))
    }
}
