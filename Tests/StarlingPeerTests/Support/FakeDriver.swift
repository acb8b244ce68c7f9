import StarlingCrypto
import StarlingPeer
import StarlingTasks

/// The driver's side of `TaskWork`, in memory, for tests that drive `Peer` directly: models and
/// updates are hashes made from what the order names, so a test can predict every one of them.
/// Each order is answered at once, unless `withhold` says to keep it: kept orders wait in
/// `withheld` until the test answers them (`PeerCluster.answerWithheld`) or drops them. Most
/// orders have one answer or none; a `.serve` has one per role it names.
struct FakeDriver {
    /// Samples each update declares.
    static let samples: UInt64 = 10

    /// Which orders to leave unanswered for now (the peer that gave the order, and the order).
    var withhold: (_ peer: Int, _ work: TaskWork) -> Bool = { _, _ in false }
    private(set) var withheld: [(peer: Int, work: TaskWork)] = []
    /// Why a role of a `.serve` cannot serve (nil: it serves the version asked).
    var servingFailure: (_ peer: Int, _ work: ServeWork, _ role: ServingRole) -> String? = { _, _, _ in nil }
    /// IncrementalLearningJob evaluations: the share of a peer's evaluation rows the candidate and
    /// the deployed model get right, in ‰ (the default makes every candidate better).
    var evaluation: (_ peer: Int, _ work: JobEvalWork) -> (candidate: UInt64, deployed: UInt64) = { _, _ in (900, 800) }
    /// Why a peer's job training fails (nil: it trains).
    var jobTrainingFailure: (_ peer: Int, _ work: JobTrainWork) -> String? = { _, _ in nil }
    /// Updates folded into each coordinator's aggregation of a round (a `collect` answered).
    private var folded: [Aggregation: Set<String>] = [:]

    private struct Aggregation: Hashable {
        let peer: Int
        let task: TaskID
        let epoch: UInt64
        let round: UInt64
    }

    /// The update a worker's training produces in a round.
    static func update(task: TaskID, worker: String, epoch: UInt64, round: UInt64) -> UpdateRef {
        UpdateRef(hash: ContentHash.of(task.hash.bytes + Array("\(worker)/\(epoch)/\(round)".utf8)), sampleCount: samples)
    }

    /// The model an aggregation of these workers' updates produces.
    static func model(task: TaskID, epoch: UInt64, round: UInt64, participants: [String]) -> ContentHash {
        ContentHash.of(task.hash.bytes + Array("\(epoch)/\(round)/\(participants.sorted().joined(separator: ","))".utf8))
    }

    /// Takes an order from `peer`: its answers now, or none (withheld, or an order with no answer).
    mutating func take(_ work: TaskWork, from peer: Int) -> [TaskWorkResult] {
        if withhold(peer, work) {
            withheld.append((peer, work))
            return []
        }
        return answers(work, from: peer)
    }

    /// Removes and returns the withheld orders that match.
    mutating func takeWithheld(where matches: (_ peer: Int, _ work: TaskWork) -> Bool) -> [(peer: Int, work: TaskWork)] {
        let taken = withheld.filter { matches($0.peer, $0.work) }
        withheld.removeAll { matches($0.peer, $0.work) }
        return taken
    }

    /// What a well-behaved driver answers: a `ServingResult` per role of a `.serve` (in role
    /// order), else the order's one answer, if it has one.
    mutating func answers(_ work: TaskWork, from peer: Int) -> [TaskWorkResult] {
        if case let .serve(order) = work {
            return order.roles.keys.sorted().map { role in
                .serving(ServingResult(task: order.task, version: order.version, role: role,
                                       failure: servingFailure(peer, order, role)))
            }
        }
        return answer(work, from: peer).map { [$0] } ?? []
    }

    private mutating func answer(_ work: TaskWork, from peer: Int) -> TaskWorkResult? {
        switch work {
        case let .federated(.train(order)):
            return .federated(.trained(task: order.task, worker: order.worker, epoch: order.epoch, round: order.round,
                                       update: Self.update(task: order.task, worker: order.worker, epoch: order.epoch, round: order.round)))
        case let .federated(.collect(order)):
            folded[Aggregation(peer: peer, task: order.task, epoch: order.epoch, round: order.round), default: []]
                .insert(order.worker)
            return .federated(.collected(task: order.task, epoch: order.epoch, round: order.round, worker: order.worker, rejection: nil))
        case let .federated(.aggregate(order)):
            let key = Aggregation(peer: peer, task: order.task, epoch: order.epoch, round: order.round)
            let workers = (folded.removeValue(forKey: key) ?? []).sorted()
            guard !workers.isEmpty else {
                return .federated(.aggregationFailed(task: order.task, epoch: order.epoch, round: order.round, reason: "no update folded"))
            }
            let model = Self.model(task: order.task, epoch: order.epoch, round: order.round, participants: workers)
            return .federated(.aggregated(task: order.task, epoch: order.epoch, round: order.round,
                                          AggregatedRound(model: model, participants: workers,
                                                          sampleCount: Self.samples * UInt64(workers.count), metrics: ["loss": 0.5])))
        case let .holdModel(_, _, model, _):
            return .modelHeld(model)
        case let .release(task, _):
            folded = folded.filter { $0.key.task != task }
            return nil
        case .serve:
            preconditionFailure("a serve order is answered per role by answers(_:from:)")
        case let .incremental(.train(order)):
            if let reason = jobTrainingFailure(peer, order) {
                return .incremental(.failed(task: order.task, round: order.round, work: .train, reason: reason))
            }
            return .incremental(.trained(task: order.task, round: order.round, update: Self.jobUpdate(order, peer: peer)))
        case let .incremental(.evaluate(order)):
            let rows = max(1, UInt64((Double(order.data.rows) * (1 - order.data.trainProbability)).rounded()))
            let (candidate, deployed) = evaluation(peer, order)
            func matrix(_ perMille: UInt64) -> ConfusionMatrix {
                let right = rows * perMille / 1_000
                return ConfusionMatrix(classes: 2, counts: [right, 0, rows - right, 0])
            }
            return .incremental(.evaluated(task: order.task, round: order.round,
                                           evaluation: Evaluation(candidate: matrix(candidate), deployed: matrix(deployed))))
        case let .incremental(.combine(order)):
            return .incremental(.combined(task: order.task, round: order.round, model: Self.candidate(order)))
        }
    }

    /// The update a peer trains for a job's step.
    static func jobUpdate(_ order: JobTrainWork, peer: Int) -> UpdateRef {
        UpdateRef(hash: ContentHash.of(order.task.hash.bytes + Array("job/\(order.round)/\(peer)".utf8)),
                  sampleCount: max(1, UInt64(Double(order.data.rows) * order.data.trainProbability)))
    }

    /// The candidate a combination of updates makes.
    static func candidate(_ order: JobCombineWork) -> ContentHash {
        ContentHash.of(order.task.hash.bytes + Array("candidate/\(order.round)".utf8) + order.updates.map(\.update.hash).sorted().flatMap(\.bytes))
    }
}

extension TaskWork {
    /// The task an order is for.
    var task: TaskID {
        switch self {
        case let .federated(.train(order)): return order.task
        case let .federated(.collect(order)): return order.task
        case let .federated(.aggregate(order)): return order.task
        case let .holdModel(task, _, _, _), let .release(task, _): return task
        case let .serve(work): return work.task
        case let .incremental(work): return work.task
        }
    }

    /// The round an order is for (nil for a release).
    var round: UInt64? {
        switch self {
        case let .federated(.train(order)): return order.round
        case let .federated(.collect(order)): return order.round
        case let .federated(.aggregate(order)): return order.round
        case let .holdModel(_, round, _, _): return round
        case .release: return nil
        case let .serve(work): return work.version
        case let .incremental(.train(order)): return order.round
        case let .incremental(.evaluate(order)): return order.round
        case let .incremental(.combine(order)): return order.round
        }
    }

    var isTrain: Bool { if case .federated(.train) = self { return true } else { return false } }
    var isCollect: Bool { if case .federated(.collect) = self { return true } else { return false } }
    var isAggregate: Bool { if case .federated(.aggregate) = self { return true } else { return false } }
    var isRelease: Bool { if case .release = self { return true } else { return false } }
}
