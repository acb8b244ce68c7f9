import Foundation
import StarlingLearning

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
    /// (`worker-fail`) and the next one is still served. Returns true when the peer says done.
    /// In a training worker's process it returns false at once.
    public func serveEvaluations(_ score: (ModelWeights) throws -> [String: Double]) throws -> Bool {
        guard isEvaluator else { return false }
        var scored: Set<[UInt64]> = []
        while let job = try nextEvaluation() {
            guard scored.insert([job.epoch, job.round]).inserted else {
                Thread.sleep(forTimeInterval: Double(Self.pollInterval.components.attoseconds) / 1e18)
                continue
            }
            let identity: [String: Any] = ["epoch": job.epoch, "round": job.round]
            do {
                guard let data = FileManager.default.contents(atPath: job.modelPath) else {
                    throw WorkerError("cannot read the global model at \(job.modelPath)")
                }
                let metrics = try score(try SafeTensors.decode([UInt8](data))).filter { $0.value.isFinite }
                _ = try request(identity.merging(["command": "worker-evaluated", "metrics": metrics]) { first, _ in first })
            } catch {
                _ = try request(identity.merging(["command": "worker-fail", "reason": "evaluation failed: \(error)"]) { first, _ in first })
            }
        }
        return true
    }

    /// One model to score: the round it was committed for and its file.
    struct EvaluationJob {
        let epoch: UInt64
        let round: UInt64
        let modelPath: String
    }

    /// Waits for the next model to score; nil when the peer says done.
    func nextEvaluation() throws -> EvaluationJob? {
        while true {
            let answer = try poll()
            switch answer["state"] as? String {
            case Self.evaluatorRole:
                guard let path = answer["model"] as? String else { throw WorkerError("the peer's evaluate answer has no model") }
                return EvaluationJob(epoch: Self.uint(answer["epoch"]), round: Self.uint(answer["round"]), modelPath: path)
            case "done":
                return nil
            default:
                Thread.sleep(forTimeInterval: Double(Self.pollInterval.components.attoseconds) / 1e18)
            }
        }
    }
}
