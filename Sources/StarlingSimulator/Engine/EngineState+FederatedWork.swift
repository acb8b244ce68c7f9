import StarlingCrypto
import StarlingMembership
import StarlingPeer
import StarlingTasks

/// A round of a simulated task, as the simulated driver keys its aggregations.
struct SimulatedRound: Hashable {
    let task: TaskID
    let epoch: UInt64
    let round: UInt64
}

/// The simulator's FederatedTask executor: training takes `trainingTime` (plus fetching the base
/// model), updates and models are hashes, and an aggregation holds the updates folded so far.
extension EngineState {
    /// Simulated local training per round.
    static let trainingTime: Int64 = 500_000_000
    /// Samples each simulated worker reports.
    static let simulatedSamples: UInt64 = 100

    mutating func performFederated(_ work: FederatedWork, from node: Int) {
        switch work {
        case let .train(order):
            if failingWorkers[order.spec.name]?.contains(order.worker) == true {
                finishWork(.trainingFailed(task: order.task, worker: order.worker, epoch: order.epoch, round: order.round,
                                           reason: "the worker failed (failing_workers in the scenario)"),
                           at: node, after: Self.trainingTime)
                return
            }
            var delay = Self.trainingTime
            if order.baseModel != ModelHash.none {
                guard let source = firstReachable(order.sources, for: node) else {
                    finishWork(.trainingFailed(task: order.task, worker: order.worker, epoch: order.epoch, round: order.round,
                                               reason: "no source of the base model is reachable"),
                               at: node, after: Self.trainingTime)
                    return
                }
                delay &+= streamLeg(source, node, retransmitAfter: Self.dataTimeout)
            }
            let update = UpdateRef(hash: ContentHash.of(order.task.hash.bytes + Array(order.worker.utf8)
                                       + Self.bytes(order.epoch) + Self.bytes(order.round) + Self.bytes(UInt64(node))),
                                   sampleCount: Self.simulatedSamples)
            finishWork(.trained(task: order.task, worker: order.worker, epoch: order.epoch, round: order.round, update: update),
                       at: node, after: delay)
        case let .collect(order):
            guard let source = reachableSource(order.source, for: node) else {
                finishWork(.collected(task: order.task, epoch: order.epoch, round: order.round, worker: order.worker,
                                      rejection: "the update's peer is unreachable"), at: node, after: Self.synTimeout)
                return
            }
            let key = SimulatedRound(task: order.task, epoch: order.epoch, round: order.round)
            cold[node].foldedUpdates[key, default: []].insert(order.worker)
            finishWork(.collected(task: order.task, epoch: order.epoch, round: order.round, worker: order.worker, rejection: nil),
                       at: node, after: streamLeg(source, node, retransmitAfter: Self.dataTimeout))
        case let .aggregate(order):
            let key = SimulatedRound(task: order.task, epoch: order.epoch, round: order.round)
            let workers = (cold[node].foldedUpdates.removeValue(forKey: key) ?? []).sorted()
            guard !workers.isEmpty else {
                finishWork(.aggregationFailed(task: order.task, epoch: order.epoch, round: order.round, reason: "no update folded"),
                           at: node, after: 0)
                return
            }
            let model = ContentHash.of(order.task.hash.bytes + Self.bytes(order.epoch) + Self.bytes(order.round)
                                       + Array(workers.joined(separator: ",").utf8))
            let result = AggregatedRound(model: model, participants: workers,
                                         sampleCount: Self.simulatedSamples * UInt64(workers.count), metrics: [:])
            finishWork(.aggregated(task: order.task, epoch: order.epoch, round: order.round, result), at: node, after: 0)
        }
    }

    mutating func releaseFederated(_ task: TaskID, at node: Int) {
        cold[node].foldedUpdates = cold[node].foldedUpdates.filter { $0.key.task != task }
    }

    private mutating func finishWork(_ result: FederatedWorkResult, at node: Int, after delay: Int64) {
        finishWork(.federated(result), at: node, after: delay)
    }
}
