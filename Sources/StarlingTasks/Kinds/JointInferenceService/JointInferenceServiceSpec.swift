/// `kind: JointInferenceService` (after KubeEdge Sedna's CRD of that name): a small model infers at
/// the edge and sends the hard examples to a big model in the cloud. Parsed and validated now; run
/// by a later issue.
public struct JointInferenceServiceSpec: Sendable, Equatable {
    public var edgeWorker: EdgeInferenceWorker
    public var cloudWorker: CloudInferenceWorker

    public init(edgeWorker: EdgeInferenceWorker, cloudWorker: CloudInferenceWorker) {
        self.edgeWorker = edgeWorker
        self.cloudWorker = cloudWorker
    }
}

/// `spec.edgeWorker`.
public struct EdgeInferenceWorker: Sendable, Equatable {
    public var model: ModelRef
    /// nil: a live peer that matches `spec.placement`.
    public var nodeName: String?
    public var hardExampleMining: HardExampleMining
    public var workerSpec: WorkerSpec

    public init(model: ModelRef, nodeName: String? = nil, hardExampleMining: HardExampleMining, workerSpec: WorkerSpec) {
        self.model = model
        self.nodeName = nodeName
        self.hardExampleMining = hardExampleMining
        self.workerSpec = workerSpec
    }
}

/// `spec.cloudWorker`.
public struct CloudInferenceWorker: Sendable, Equatable {
    public var model: ModelRef
    /// nil: a live peer that matches `spec.coordinator` (the best-linked peers).
    public var nodeName: String?
    public var workerSpec: WorkerSpec

    public init(model: ModelRef, nodeName: String? = nil, workerSpec: WorkerSpec) {
        self.model = model
        self.nodeName = nodeName
        self.workerSpec = workerSpec
    }
}
