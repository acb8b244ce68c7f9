/// Reading `kind: IncrementalLearningJob` (Sedna's ILJobSpec, with `workerSpec` script fields in
/// place of pod templates).
extension SpecReader {
    static let incrementalSpecKeys = ["initialModel", "dataset", "outputDir", "trainSpec", "evalSpec", "deploySpec"]

    mutating func incrementalLearningJob(_ spec: SpecMapping) -> IncrementalLearningJobSpec? {
        let initialModel = required("initialModel", in: spec).flatMap { reference($0) }
        let dataset = required("dataset", in: spec).flatMap { incrementalDataset($0) }
        let outputDirectory = spec["outputDir"].flatMap { text($0) }
        let train = required("trainSpec", in: spec).flatMap { trainSpec($0) }
        let eval = required("evalSpec", in: spec).flatMap { evalSpec($0) }
        let deploy = required("deploySpec", in: spec).flatMap { deploySpec($0) }
        guard let initialModel, let dataset, let train, let eval, let deploy else { return nil }
        return IncrementalLearningJobSpec(initialModel: ModelRef(name: initialModel), dataset: dataset,
                                          outputDirectory: outputDirectory, trainSpec: train, evalSpec: eval, deploySpec: deploy)
    }

    /// The field, or nil with "missing KEY" reported at the mapping.
    mutating func required(_ key: String, in mapping: SpecMapping) -> SpecField? {
        guard let field = mapping[key] else {
            missing(key, in: mapping)
            return nil
        }
        return field
    }

    private mutating func incrementalDataset(_ field: SpecField) -> IncrementalDataset? {
        guard let mapping = mapping(field, known: ["name", "trainProb"]) else { return nil }
        let name = required("name", in: mapping).flatMap { text($0) }
        var probability = IncrementalDataset.defaultTrainProbability
        if let field = mapping["trainProb"], let value = real(field) {
            if value > 0 && value <= 1 { probability = value } else { error(field, "must be greater than 0 and at most 1") }
        }
        return name.map { IncrementalDataset(name: $0, trainProbability: probability) }
    }

    private mutating func trainSpec(_ field: SpecField) -> IncrementalTrainSpec? {
        guard let mapping = mapping(field, known: ["nodeName", "workerSpec", "trigger"]) else { return nil }
        let nodeName = mapping["nodeName"].flatMap { self.nodeName($0) }
        let workerSpec = required("workerSpec", in: mapping).flatMap { commonWorkerSpec($0) }
        let trigger = required("trigger", in: mapping).flatMap { self.trigger($0) }
        guard let workerSpec, let trigger else { return nil }
        return IncrementalTrainSpec(nodeName: nodeName, workerSpec: workerSpec, trigger: trigger)
    }

    private mutating func evalSpec(_ field: SpecField) -> IncrementalEvalSpec? {
        guard let mapping = mapping(field, known: ["nodeName", "workerSpec", "initialEvalModel"]) else { return nil }
        let nodeName = mapping["nodeName"].flatMap { self.nodeName($0) }
        var initialEvalModel: ModelRef?
        var initialFailed = false
        if let field = mapping["initialEvalModel"] {
            initialEvalModel = reference(field).map { ModelRef(name: $0) }
            initialFailed = initialEvalModel == nil
        }
        guard !initialFailed else { return nil }
        return required("workerSpec", in: mapping).flatMap { commonWorkerSpec($0) }
            .map { IncrementalEvalSpec(nodeName: nodeName, workerSpec: $0, initialEvalModel: initialEvalModel) }
    }

    private mutating func deploySpec(_ field: SpecField) -> IncrementalDeploySpec? {
        guard let mapping = mapping(field, known: ["model", "nodeName", "workerSpec", "trigger", "hardExampleMining"]) else { return nil }
        let model = required("model", in: mapping).flatMap { deployModel($0) }
        let nodeName = mapping["nodeName"].flatMap { self.nodeName($0) }
        let workerSpec = required("workerSpec", in: mapping).flatMap { commonWorkerSpec($0) }
        let trigger = required("trigger", in: mapping).flatMap { self.trigger($0) }
        var mining: HardExampleMining?
        var miningFailed = false
        if let field = mapping["hardExampleMining"] {
            mining = hardExampleMining(field)
            miningFailed = mining == nil
        }
        guard let model, let workerSpec, let trigger, !miningFailed else { return nil }
        return IncrementalDeploySpec(model: ModelRef(name: model.name), hotUpdateEnabled: model.hot, pollPeriodSeconds: model.poll,
                                     nodeName: nodeName, workerSpec: workerSpec, trigger: trigger, hardExampleMining: mining)
    }

    /// `deploySpec.model`: `{name, hotUpdateEnabled?, pollPeriodSeconds?}`.
    private mutating func deployModel(_ field: SpecField) -> (name: String, hot: Bool, poll: Int)? {
        guard let mapping = mapping(field, known: ["name", "hotUpdateEnabled", "pollPeriodSeconds"]) else { return nil }
        let name = required("name", in: mapping).flatMap { text($0) }
        var hot = false
        var failed = false
        if let field = mapping["hotUpdateEnabled"], let text = text(field) {
            switch text.lowercased() {
            case "true": hot = true
            case "false": hot = false
            default:
                error(field, "expected true or false, got \"\(text.clipped)\"")
                failed = true
            }
        }
        var poll = IncrementalDeploySpec.defaultPollPeriodSeconds
        if let field = mapping["pollPeriodSeconds"] {
            if let value = integer(field, in: 1...86_400) { poll = value } else { failed = true }
        }
        guard let name, !failed else { return nil }
        return (name, hot, poll)
    }

    private mutating func trigger(_ field: SpecField) -> Trigger? {
        guard let mapping = mapping(field, known: ["checkPeriodSeconds", "timer", "condition"]) else { return nil }
        var period = Trigger.defaultCheckPeriodSeconds
        if let field = mapping["checkPeriodSeconds"], let value = integer(field, in: 1...86_400) { period = value }
        var timer: TriggerTimer?
        var timerFailed = false
        if let field = mapping["timer"] {
            timer = triggerTimer(field)
            timerFailed = timer == nil
        }
        guard let condition = required("condition", in: mapping).flatMap({ self.condition($0) }), !timerFailed else { return nil }
        return Trigger(checkPeriodSeconds: period, timer: timer, condition: condition)
    }

    private mutating func triggerTimer(_ field: SpecField) -> TriggerTimer? {
        guard let mapping = mapping(field, known: ["start", "end"]) else { return nil }
        func minute(_ key: String) -> Int? {
            guard let field = required(key, in: mapping), let text = text(field) else { return nil }
            guard let minute = ScalarText.clockMinute(text) else {
                error(field, "expected a time of day as HH:MM (00:00 to 23:59), got \"\(text.clipped)\"")
                return nil
            }
            return minute
        }
        let start = minute("start"), end = minute("end")
        guard let start, let end else { return nil }
        return TriggerTimer(startMinute: start, endMinute: end)
    }

    private mutating func condition(_ field: SpecField) -> TriggerCondition? {
        guard let mapping = mapping(field, known: ["operator", "threshold", "metric"]) else { return nil }
        var comparison: TriggerCondition.Comparison?
        if let field = required("operator", in: mapping), let text = text(field) {
            comparison = TriggerCondition.Comparison(spelling: text)
            if comparison == nil {
                let known = TriggerCondition.Comparison.spellings.joined(separator: ", ")
                error(field, "unknown operator \"\(text.clipped)\" (known: \(known))")
            }
        }
        let threshold = required("threshold", in: mapping).flatMap { real($0) }
        let metricField = required("metric", in: mapping)
        var metric = metricField.flatMap { text($0) }
        if let text = metric, let metricField, MetricReference(text) == nil {
            error(metricField, "metric \"\(text.clipped)\" is not a name (letters, digits, _ . -) optionally indexed, as precision[3]")
            metric = nil
        }
        guard let comparison, let threshold, let metric else { return nil }
        return TriggerCondition(metric: metric, comparison: comparison, threshold: threshold)
    }

    /// `{name, parameters}`; the name is not checked against a list (workers may register their own).
    mutating func hardExampleMining(_ field: SpecField) -> HardExampleMining? {
        guard let mapping = mapping(field, known: ["name", "parameters"]) else { return nil }
        let name = required("name", in: mapping).flatMap { text($0) }
        let parameters = mapping["parameters"].map { self.parameters($0, context: .passThrough) } ?? []
        return name.map { HardExampleMining(name: $0, parameters: parameters.map(\.parameter)) }
    }
}
