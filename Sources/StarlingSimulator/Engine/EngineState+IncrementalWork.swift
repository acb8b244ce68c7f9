import StarlingCrypto
import StarlingPeer
import StarlingTasks

/// The simulator's IncrementalLearningJob executor: training takes `trainingTime` plus fetching
/// the base model; an evaluation scores every candidate above the model it replaces (a fixed 90%
/// against 80% of the peer's evaluation rows, so a `*_delta > 0` deploy trigger fires); combining
/// fetches each update over a stream leg. Updates and models are hashes, as in every simulated task.
extension EngineState {
    /// The share of evaluation rows a simulated candidate and deployed model get right, in ‰.
    static let simulatedCandidateAccuracy: UInt64 = 900
    static let simulatedDeployedAccuracy: UInt64 = 800

    mutating func performIncremental(_ work: IncrementalWork, from node: Int) {
        switch work {
        case let .train(order):
            if failingWorkers[order.spec.name]?.contains("train") == true {
                finish(.failed(task: order.task, round: order.round, work: .train, reason: "the worker failed (failing_workers)"),
                       at: node, after: Self.trainingTime)
                return
            }
            guard let delay = fetchDelay(order.sources, for: node) else {
                finish(.failed(task: order.task, round: order.round, work: .train, reason: "no source of the base model is reachable"),
                       at: node, after: Self.trainingTime)
                return
            }
            let samples = max(1, UInt64(Double(order.data.rows) * order.data.trainProbability))
            let update = UpdateRef(hash: ContentHash.of(order.task.hash.bytes + Self.bytes(order.round) + Self.bytes(UInt64(node))),
                                   sampleCount: samples)
            finish(.trained(task: order.task, round: order.round, update: update), at: node, after: delay &+ Self.trainingTime)
        case let .evaluate(order):
            guard let delay = fetchDelay(order.sources, for: node) else {
                finish(.failed(task: order.task, round: order.round, work: .evaluate, reason: "no source of the models is reachable"),
                       at: node, after: Self.trainingTime)
                return
            }
            let rows = max(1, UInt64((Double(order.data.rows) * (1 - order.data.trainProbability)).rounded()))
            func matrix(_ perMille: UInt64) -> ConfusionMatrix {
                let right = rows * perMille / 1_000
                return ConfusionMatrix(classes: 2, counts: [right, 0, rows - right, 0])
            }
            let evaluation = Evaluation(candidate: matrix(Self.simulatedCandidateAccuracy), deployed: matrix(Self.simulatedDeployedAccuracy))
            finish(.evaluated(task: order.task, round: order.round, evaluation: evaluation), at: node, after: delay &+ Self.trainingTime)
        case let .combine(order):
            var delay: Int64 = 0
            var folded: [ContentHash] = []
            for update in order.updates {
                guard let source = reachableSource(update.source, for: node) else { continue }
                delay = max(delay, streamLeg(source, node, retransmitAfter: Self.dataTimeout))
                folded.append(update.update.hash)
            }
            guard !folded.isEmpty else {
                finish(.failed(task: order.task, round: order.round, work: .combine, reason: "no update's peer is reachable"),
                       at: node, after: Self.synTimeout)
                return
            }
            let model = ContentHash.of(order.task.hash.bytes + Self.bytes(order.round) + folded.sorted().flatMap(\.bytes))
            finish(.combined(task: order.task, round: order.round, model: model), at: node, after: delay)
        }
    }

    /// The time to fetch a model from the first reachable source (0 with no source: held here);
    /// nil when sources exist and none is reachable.
    private mutating func fetchDelay(_ sources: [BlobSource], for node: Int) -> Int64? {
        guard !sources.isEmpty else { return 0 }
        guard let source = firstReachable(sources, for: node) else { return nil }
        return streamLeg(source, node, retransmitAfter: Self.dataTimeout)
    }

    private mutating func finish(_ result: IncrementalWorkResult, at node: Int, after delay: Int64) {
        finishWork(.incremental(result), at: node, after: delay)
    }
}
