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
        let mining = required("hardExampleMining", in: mapping).flatMap { hardExampleMining($0) }
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
}
