import StarlingLearning

/// Reading `kind: JointInferenceService` (Sedna's JointInferenceServiceSpec, with `workerSpec`
/// script fields in place of pod templates).
extension SpecReader {
    static let jointInferenceSpecKeys = ["edgeWorker", "cloudWorker"]

    mutating func jointInferenceService(_ spec: SpecMapping) -> JointInferenceServiceSpec? {
        let edge = required("edgeWorker", in: spec).flatMap { edgeWorker($0) }
        let cloud = required("cloudWorker", in: spec).flatMap { cloudWorker($0) }
        guard let edge, let cloud else { return nil }
        return JointInferenceServiceSpec(edgeWorker: edge, cloudWorker: cloud)
    }

    private mutating func edgeWorker(_ field: SpecField) -> EdgeInferenceWorker? {
        guard let mapping = mapping(field, known: ["model", "nodeName", "hardExampleMining", "workerSpec"]) else { return nil }
        let model = required("model", in: mapping).flatMap { reference($0) }
        let nodeName = mapping["nodeName"].flatMap { self.nodeName($0) }
        let mining = required("hardExampleMining", in: mapping).flatMap { checkedHardExampleMining($0) }
        let workerSpec = required("workerSpec", in: mapping).flatMap { commonWorkerSpec($0) }
        guard let model, let mining, let workerSpec else { return nil }
        return EdgeInferenceWorker(model: ModelRef(name: model), nodeName: nodeName, hardExampleMining: mining, workerSpec: workerSpec)
    }

    private mutating func cloudWorker(_ field: SpecField) -> CloudInferenceWorker? {
        guard let mapping = mapping(field, known: ["model", "nodeName", "workerSpec"]) else { return nil }
        let model = required("model", in: mapping).flatMap { reference($0) }
        let nodeName = mapping["nodeName"].flatMap { self.nodeName($0) }
        let workerSpec = required("workerSpec", in: mapping).flatMap { commonWorkerSpec($0) }
        guard let model, let workerSpec else { return nil }
        return CloudInferenceWorker(model: ModelRef(name: model), nodeName: nodeName, workerSpec: workerSpec)
    }

    /// `{name, parameters}` checked by the miner's own rules (`HardExampleMiner.problems`): the
    /// edge runs the built-in miners, so an unknown name or parameter, or a value outside [0, 1],
    /// is an error at the field that holds it.
    private mutating func checkedHardExampleMining(_ field: SpecField) -> HardExampleMining? {
        guard let mapping = mapping(field, known: ["name", "parameters"]) else { return nil }
        let nameField = required("name", in: mapping)
        let name = nameField.flatMap { text($0) }
        let parameters = mapping["parameters"].map { self.parameters($0, context: .passThrough) } ?? []
        guard let name, let nameField else { return nil }
        let problems = HardExampleMiner.problems(name: name, parameters: parameters.map { ($0.key, $0.value) })
        for problem in problems {
            switch problem {
            case .unknownName:
                error(nameField, problem.description)
            case let .unknownParameter(_, key), let .duplicateParameter(key):
                if let raw = parameters.first(where: { $0.key == key }) {
                    error(raw.field.path(of: "key"), line: raw.field.line, problem.description)
                }
            case let .badValue(key, _):
                if let raw = parameters.first(where: { $0.key == key }) {
                    let valueField = raw.valueField ?? raw.field
                    error(valueField.path, line: valueField.line, problem.description)
                }
            }
        }
        guard problems.isEmpty else { return nil }
        return HardExampleMining(name: name, parameters: parameters.map(\.parameter))
    }
}
