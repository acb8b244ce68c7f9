import Foundation
import StarlingLearning
import StarlingLocalAPI

/// Central evaluation in the Swift Lib (docs/workers.md, "Central evaluation"): a process the
/// coordinator's peer started with `STARLING_ROLE=evaluate` scores each new global model on the
/// peer's evaluation dataset, as the Python Lib's `serve_evaluations(fn)` does.
///
///     if try worker.serveEvaluations({ weights in ["loss": ..., "accuracy": ...] }) { return }
///     while let round = try worker.nextRound() { ... }
extension WorkerClient {
    /// `STARLING_ROLE` values.
    public static let evaluatorRole = "evaluate"

    public var isEvaluator: Bool { context.role == Self.evaluatorRole }

    /// In an evaluator process: asks the peer for each model to score, calls `score` with it and
    /// sends the scores back (`worker-evaluated`); a model `score` throws on is reported failed
    /// (`worker-fail`) and the next one is still served. Returns true when the peer says stop.
    /// In a training worker's process it returns false at once.
    public func serveEvaluations(_ score: (ModelWeights) throws -> [String: Double]) throws -> Bool {
        guard isEvaluator else { return false }
        var scored: Set<[UInt64]> = []
        while let job = try nextEvaluation() {
            guard scored.insert([job.epoch, job.round]).inserted else {
                Self.pause()
                continue
            }
            do {
                guard let data = FileManager.default.contents(atPath: job.model) else {
                    throw WorkerError("cannot read the global model at \(job.model)")
                }
                let metrics = try score(try SafeTensors.decode([UInt8](data))).filter { $0.value.isFinite }
                _ = try send(.workerEvaluated(identity, WorkerScores(epoch: job.epoch, round: job.round, metrics: metrics)),
                             as: OutcomeResponse.self)
            } catch {
                _ = try send(.workerFail(identity, WorkerFailure(epoch: job.epoch, round: job.round,
                                                                 reason: "evaluation failed: \(error)")), as: OutcomeResponse.self)
            }
        }
        return true
    }

    /// Waits for the next model to score; nil when the peer says stop.
    func nextEvaluation() throws -> EvaluateJob? {
        while true {
            switch try poll() {
            case let .evaluate(job):
                return job
            case .stop:
                return nil
            case .wait:
                Self.pause()
            case .train:
                throw WorkerError("the peer asks an evaluator (STARLING_ROLE=evaluate) to train a round")
            }
        }
    }
}
