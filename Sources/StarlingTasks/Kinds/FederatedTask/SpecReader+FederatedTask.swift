import StarlingLearning

/// Reading `kind: FederatedTask`: the two accepted placements of workers and script fields,
/// inheritance from the first worker, parameters and their defaults.
extension SpecReader {
    static let federatedSpecKeys = ["aggregationWorker", "trainingWorkers"]
        + KnownParameter.allCases.compactMap(\.specField)

    mutating func federatedTask(_ spec: SpecMapping) -> FederatedTaskSpec? {
        var aggregation = AggregationWorker()
        var aggregationParameters: [RawParameter] = []
        var seedWorkers: SpecField?
        if let field = spec["aggregationWorker"],
           let worker = mapping(field, known: ["name", "model", "workerSpec", "trainingWorkers", "nodeName", "evaluation"]) {
            if let name = worker["name"].flatMap({ label($0) }) { aggregation.name = name }
            if let nodeName = worker["nodeName"] {
                error(nodeName, "the coordinator is elected among live peers, not named: choose who may coordinate with spec.coordinator.tags")
            }
            if let model = worker["model"].flatMap({ reference($0) }) { aggregation.model = ModelRef(name: model) }
            if let field = worker["evaluation"], let evaluation = mapping(field, known: ["dataset"]) {
                if let dataset = evaluation["dataset"] {
                    if let name = reference(dataset) { aggregation.evaluationDataset = DatasetRef(name: name) }
                } else {
                    missing("dataset", in: evaluation, "name the dataset the coordinator scores each global model on")
                }
            }
            if let field = worker["workerSpec"], let workerSpec = mapping(field, known: ["aggregationAlgorithm", "parameters"]) {
                if let field = workerSpec["aggregationAlgorithm"], let name = text(field) {
                    if let algorithm = AggregationAlgorithm(named: name) {
                        aggregation.algorithm = algorithm
                    } else {
                        error(field, "unknown algorithm \"\(name.clipped)\" (known: \(AggregationAlgorithm.knownNames))")
                    }
                }
                if let field = workerSpec["parameters"] { aggregationParameters = parameters(field, context: .aggregationWorker) }
            }
            seedWorkers = worker["trainingWorkers"]
        }
        aggregation.extraParameters = aggregationParameters.filter { $0.known == nil }.map(\.parameter).sorted()
        customTaskParameters(aggregationParameters)

        guard let workersField = trainingWorkersField(spec, seed: seedWorkers),
              let items = list(workersField, limit: TaskSpecLimits.workersMax, what: "training workers") else { return nil }
        guard !items.isEmpty else {
            error(workersField, "must list at least one training worker")
            return nil
        }
        let raws = inherit(items.map { rawWorker($0) })
        var workers: [TrainingWorker] = []
        for (index, raw) in raws.enumerated() {
            if let worker = trainingWorker(raw, index: index, taskParameters: aggregationParameters) { workers.append(worker) }
        }
        checkNames(raws, aggregation: aggregation.name)
        let rounds = roundSettings(spec, aggregationParameters, workerCount: items.count)
        guard workers.count == items.count, let rounds else { return nil }
        return FederatedTaskSpec(aggregationWorker: aggregation, trainingWorkers: workers, rounds: rounds)
    }

    /// A key in the aggregation worker's list that neither Starling nor the aggregation reads is
    /// a task-wide value for the training workers (`WorkerParameters`): easily meant otherwise (a
    /// typo, a worker setting put here), so it is named with where it goes.
    private mutating func customTaskParameters(_ parameters: [RawParameter]) {
        let read = KnownParameter.allCases.map(\.rawValue) + AggregationAlgorithm.parameterNames
            + AggregationAlgorithm.parameterAliases.keys.sorted()
        for parameter in parameters where parameter.known == nil && !AggregationAlgorithm.readsParameter(parameter.key) {
            let key = parameter.key
            var message = "\(key) is read by neither Starling nor the aggregation: every training worker gets it in "
                + "STARLING_PARAMETERS (a worker's own \(key) wins)"
            if let near = NearestName.suggestion(for: key, among: read) { message += "; did you mean \(near)?" }
            warning(parameter.field, message)
        }
    }

    /// `spec.trainingWorkers` (tidy) or `spec.aggregationWorker.trainingWorkers` (the seed's placement).
    private mutating func trainingWorkersField(_ spec: SpecMapping, seed: SpecField?) -> SpecField? {
        let tidyPath = spec.field.path(of: "trainingWorkers")
        switch (spec["trainingWorkers"], seed) {
        case let (tidy?, seed?):
            if tidy.node.sameContent(as: seed.node) {
                warning(seed.path, line: seed.keyLine, "the same workers as \(tidyPath), given twice; read \(tidyPath)")
            } else {
                error(tidy.path, line: tidy.keyLine,
                      "disagrees with \(seed.path)\(seed.keyLine.map { " (line \($0))" } ?? ""): list the training workers once")
            }
            return tidy
        case let (tidy?, nil):
            return tidy
        case let (nil, seed?):
            warning(seed.path, line: seed.keyLine, "read as \(tidyPath) (the seed example's form); the tidy form is \(tidyPath)")
            return seed
        case (nil, nil):
            missing("trainingWorkers", in: spec, "list at least one training worker")
            return nil
        }
    }

    // MARK: Workers as written

    /// One training worker's fields as written, before inheritance.
    struct RawWorker {
        let field: SpecField
        /// The mapping that should hold a missing field (the workerSpec when there is one).
        var holder: SpecMapping?
        var name: String?
        var nodeName: String?
        /// Whether the worker has its own `dataset` (then it must name one, and nothing is inherited).
        var datasetGiven = false
        var dataset: String?
        var script = RawScript.federated
        var parameters: [RawParameter] = []
        var ownParameterKeys: Set<String> = []
    }

    private mutating func rawWorker(_ item: SpecField) -> RawWorker {
        var raw = RawWorker(field: item)
        guard let worker = mapping(item, known: ["name", "nodeName", "workerSpec"]) else { return raw }
        raw.holder = worker
        if let field = worker["name"] { raw.name = label(field) } else { missing("name", in: worker) }
        raw.nodeName = worker["nodeName"].flatMap { nodeName($0) }
        guard let field = worker["workerSpec"],
              let workerSpec = mapping(field, known: ["dataset", "parameters"] + raw.script.keys) else { return raw }
        raw.holder = workerSpec
        var dataset: SpecMapping?
        if let field = workerSpec["dataset"] {
            raw.datasetGiven = true
            dataset = mapping(field, known: ["name"] + raw.script.keys)
            if let dataset {
                if let name = dataset["name"] { raw.dataset = text(name) } else { missing("name", in: dataset) }
            }
        }
        var readUnderDataset: [String] = []
        for key in raw.script.keys {
            let tidy = workerSpec[key], seed = dataset?[key]
            if let tidy, let seed {
                let tidyText = optionalText(tidy), seedText = optionalText(seed)
                if tidyText != seedText {
                    error(tidy, "disagrees with \(seed.path)\(seed.line.map { " (line \($0))" } ?? ""): give it once")
                } else {
                    warning(seed, "the same value as \(tidy.path), given twice; read \(tidy.path)")
                }
            }
            // An empty value ("") reads as not given, so it is inherited like an absent one.
            if let field = tidy ?? seed, let text = optionalText(field), !text.isEmpty {
                raw.script[key] = (text, field)
                if tidy == nil { readUnderDataset.append(key) }
            }
        }
        if let dataset, !readUnderDataset.isEmpty {
            let them = readUnderDataset.count == 1 ? "it" : "them"
            warning(dataset.path, line: dataset.field.keyLine, "read \(readUnderDataset.joined(separator: ", ")) under dataset (the seed example's form); the tidy form puts \(them) in \(workerSpec.path)")
        }
        if let field = workerSpec["parameters"] {
            raw.parameters = parameters(field, context: .trainingWorker)
            raw.ownParameterKeys = Set(raw.parameters.map(\.key))
        }
        return raw
    }

    /// Fields a worker omits come from the first worker, field by field: dataset, script and
    /// framework fields, and parameters key by key. Names and node names are never inherited.
    private func inherit(_ raws: [RawWorker]) -> [RawWorker] {
        guard let first = raws.first else { return raws }
        var result = raws
        for index in result.indices.dropFirst() {
            if !result[index].datasetGiven { result[index].dataset = first.dataset }
            for key in first.script.keys where result[index].script[key] == nil {
                result[index].script[key] = first.script[key]
            }
            let own = result[index].ownParameterKeys
            result[index].parameters += first.parameters.filter { !own.contains($0.key) }
        }
        return result
    }

    // MARK: Typed workers

    private mutating func trainingWorker(_ raw: RawWorker, index: Int, taskParameters: [RawParameter]) -> TrainingWorker? {
        guard let name = raw.name else { return nil }
        guard let dataset = raw.dataset else {
            // Reported once, where it is missing: at the first worker, or where a worker's own
            // dataset names none (already reported).
            if index == 0, !raw.datasetGiven {
                if let holder = raw.holder { missing("dataset", in: holder, "the dataset this worker trains on") }
                else { error(raw.field, "missing workerSpec (with the dataset this worker trains on)") }
            }
            return nil
        }
        if raw.script.bootFile == nil {
            if index == 0, let holder = raw.holder {
                missing(raw.script.bootFileKey, in: holder, "a path, or builtin:logreg or builtin:mlp")
            }
            return nil
        }
        guard let script = script(raw.script) else { return nil }
        func value(_ parameter: KnownParameter) -> TypedValue? {
            let own = raw.parameters.first { $0.key == parameter.rawValue && $0.value != nil }
            let task = taskParameters.first { $0.key == parameter.rawValue && $0.value != nil }
            // A value that failed to read was reported; fall back to the default so reading goes on.
            return (own ?? task)?.typed
        }
        let hyperparameters = Hyperparameters(
            batchSize: value(.batchSize)?.integer ?? TaskDefaults.batchSize,
            learningRate: value(.learningRate)?.real ?? TaskDefaults.learningRate,
            epochs: value(.epochs)?.integer ?? TaskDefaults.epochs)
        let extras = raw.parameters.filter { $0.known == nil }.map(\.parameter)
        return TrainingWorker(name: name, nodeName: raw.nodeName, dataset: DatasetRef(name: dataset), script: script,
                              hyperparameters: hyperparameters, extraParameters: extras)
    }

    /// Worker names are unique, and differ from the aggregation worker's.
    private mutating func checkNames(_ raws: [RawWorker], aggregation: String) {
        var seen: [String: String] = [:]
        for raw in raws {
            guard let name = raw.name else { continue }
            let path = raw.field.path(of: "name")
            let line = raw.holder?.entries["name"]?.line ?? raw.field.line
            if let first = seen[name] {
                error(path, line: line, "duplicate worker name \"\(name)\" (also \(first))")
            } else if name == aggregation {
                error(path, line: line, "\"\(name)\" is also the aggregation worker's name")
            } else {
                seen[name] = path
            }
        }
    }

    // MARK: Task settings

    /// `rounds`, `min_node_number`, `round_timeout`, `rounds_between_validations`, `round_retries`: a `spec` field
    /// wins over an aggregation worker parameter of the same meaning (with a warning saying so).
    private mutating func roundSettings(_ spec: SpecMapping, _ parameters: [RawParameter], workerCount: Int) -> RoundSettings? {
        var values: [KnownParameter: (value: TypedValue, field: SpecField)] = [:]
        for setting in KnownParameter.allCases where setting.isTaskSetting {
            let parameter = parameters.first { $0.key == setting.rawValue }
            let specField = setting.specField.flatMap { spec[$0] }
            if let parameter, let specField {
                let written = parameter.value.map { "\(parameter.key): \($0.clipped)" } ?? "\(parameter.key) with no value"
                warning(specField, "also given as \(parameter.field.path) (\(written)); read \(specField.path)")
            }
            if let specField {
                if let value = typedValue(specField, setting.valueType) { values[setting] = (value, specField) }
            } else if let parameter, let typed = parameter.typed {
                values[setting] = (typed, parameter.valueField ?? parameter.field)
            }
        }
        var settings = RoundSettings(
            rounds: values[.rounds]?.value.integer ?? TaskDefaults.rounds,
            minNodeNumber: values[.minNodeNumber]?.value.integer ?? workerCount,
            roundTimeout: values[.roundTimeout]?.value.duration ?? TaskDefaults.roundTimeout,
            roundsBetweenValidations: values[.roundsBetweenValidations]?.value.integer ?? TaskDefaults.roundsBetweenValidations,
            roundRetries: values[.roundRetries]?.value.integer ?? TaskDefaults.roundRetries)
        if let (_, field) = values[.minNodeNumber], settings.minNodeNumber > workerCount {
            error(field, "\(settings.minNodeNumber) is more than the number of training workers (\(workerCount))")
            settings.minNodeNumber = workerCount
            return nil
        }
        return settings
    }
}
