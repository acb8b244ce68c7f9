import Foundation
import StarlingLocalAPI
import StarlingPeer
import StarlingTasks
import StarlingTrust

/// An IncrementalLearningJob's summary as the local API reports it: the core's versions and steps,
/// each step told in one line, with peers named as this peer's membership knows them.
extension JobReport {
    /// `names`: node → name for the peers a step lists (a peer missing there shows as its short id).
    init(_ job: TaskSummary.Job, names: [NodeID: String]) {
        var deployedAt: [UInt64: UInt64] = [:]
        for transition in job.history {
            if case let .deployed(version) = transition.step { deployedAt[version.version] = transition.at }
        }
        self.init(cycle: job.cycle, stage: job.stage.rawValue, status: job.status.rawValue, since: job.since,
                  currentVersion: job.current?.version,
                  versions: job.versions.map { Version($0, deployedAt: deployedAt[$0.version]) },
                  history: job.history.map { Step($0, names: names) }, steps: job.steps, trainCheck: job.trainCheck,
                  waitingFor: job.waitingFor, deploysHere: job.deploysHere, servedVersion: job.servedVersion,
                  servingFailure: job.servingFailure, dataset: job.dataset, deployModelName: job.deployModelName)
    }
}

extension JobReport.Version {
    /// The metrics a version's table shows; `num_of_samples` is `evalSamples` already.
    static let metricNames = ["accuracy", "precision", "recall", "f1"]

    init(_ version: ModelVersion, deployedAt: UInt64?) {
        var metrics: [String: Double]?
        var perClass: [String: [Double]]?
        if let evaluation = version.evaluation {
            let all = evaluation.metrics
            var values: [String: Double] = [:]
            var lists: [String: [Double]] = [:]
            for name in Self.metricNames.flatMap({ [$0, $0 + "_delta"] }) {
                guard let metric = all[name] else { continue }
                if let value = metric.value, value.isFinite { values[name] = value }
                if !metric.perClass.isEmpty { lists[name] = metric.perClass }
            }
            metrics = values
            perClass = lists
        }
        self.init(version: version.version, model: version.model.hex, parent: version.parent, cycle: version.cycle,
                  trainSamples: version.trainSamples, evalSamples: version.evalSamples, deployedAt: deployedAt, metrics: metrics,
                  perClass: perClass)
    }
}

extension JobReport.Step {
    init(_ transition: JobTransition, names: [NodeID: String]) {
        let position = transition.step.position
        self.init(round: transition.round, cycle: transition.cycle, stage: position.stage.rawValue, status: position.status.rawValue,
                  at: transition.at, text: Self.text(transition.step, names: names))
    }

    /// What a step says, in one line: "train running on edge-1 (400 rows, 320 new training rows)
    /// from version 1", "eval completed on 80 rows: accuracy 0.9300 (+0.0500), f1 …", "deployed
    /// version 2 (model abcdef123456, from version 1)", "not deployed: accuracy_delta = -0.01, not
    /// accuracy_delta > 0", "train failed: …", "rolled back to version 1".
    static func text(_ step: JobStep, names: [NodeID: String]) -> String {
        func peers(_ work: StageWork) -> String { work.peers.map { names[$0] ?? $0.short }.joined(separator: ", ") }
        switch step {
        case let .deployed(version) where version.parent == 0:
            return "deployed version \(version.version): the initial model (\(version.model.hex.prefix(12)))"
        case let .deployed(version):
            return "deployed version \(version.version) (model \(version.model.hex.prefix(12)), from version \(version.parent))"
        case let .rolledBack(to, _):
            return "rolled back to version \(to)"
        case let .rollbackRefused(_, reason):
            return "rollback refused: \(reason)"
        case let .training(work):
            let rows = work.rows.reduce(0, +)
            return "train running on \(peers(work)) (\(rows) rows, \(work.newSamples) new training rows) from version \(work.baseVersion)"
        case let .evaluating(candidate, work):
            return "train completed: candidate \(candidate.hex.prefix(12)); eval running on \(peers(work))"
        case let .deciding(evaluation):
            let metrics = evaluation.metrics
            let parts = ["accuracy", "f1"].compactMap { name -> String? in
                guard let value = metrics[name]?.value else { return nil }
                let delta = metrics[name + "_delta"]?.value.map { " (" + String(format: "%+.4f", $0) + ")" } ?? ""
                return "\(name) " + String(format: "%.4f", value) + delta
            }
            return "eval completed on \(evaluation.candidate.total) rows: " + (parts.isEmpty ? "no metrics" : parts.joined(separator: ", "))
        case let .notDeployed(reason):
            return "not deployed: \(reason)"
        case let .failed(stage, reason):
            return "\(stage.rawValue) failed: \(reason)"
        }
    }
}
