import Foundation
import StarlingLocalAPI
import StarlingTasks

/// `task status|list|watch` of an IncrementalLearningJob: a job has stages and model versions,
/// not rounds and participants; what it shows instead is where the cycle is, the version serving,
/// the last train-trigger check, why it waits, what this peer serves, and the latest steps
/// (docs/cli.md, "status of an IncrementalLearningJob").
extension TaskCommand {
    /// Steps `task status` lists (the local API reports up to 64).
    static let jobHistoryShown = 10

    /// The job's lines, in place of the round, participants and committed lines of a task.
    static func jobText(_ job: JobReport) -> String {
        var stage = "stage        \(job.stage) \(job.status) (cycle \(job.cycle))"
        if let since = job.since { stage += " since \(timestamp(since))" }
        var text = stage + "\n"
        if let current = job.current {
            text += "version      \(current.version) (\(versionLineage(current)))\n"
            let metrics = versionMetrics(current)
            if !metrics.isEmpty { text += "metrics      \(metrics) on \(current.evalSamples) rows\n" }
        } else {
            text += "version      none yet (the initial model is version 1)\n"
        }
        text += "dataset      \(job.dataset); the model serves as \(job.deployModelName)\n"
        if let check = job.trainCheck { text += "train check  \(check)\n" }
        if let waiting = job.waitingFor { text += "waiting      \(waiting)\n" }
        text += "serving      \(servingText(job))\n"
        if let serving = job.serving { text += servingStatsText(serving, names: [:]) }
        let shown = job.history.suffix(jobHistoryShown)
        if shown.isEmpty {
            text += "history      none yet\n"
        } else {
            text += "history      " + (job.steps > shown.count ? "last \(shown.count) of \(job.steps) steps" : "\(job.steps) step\(job.steps == 1 ? "" : "s")") + "\n"
            var rows = [["ROUND", "CYCLE", "STAGE", "STATUS", "AT", "STEP"]]
            for step in shown {
                rows.append([String(step.round), String(step.cycle), step.stage, step.status, timestamp(step.at), step.text])
            }
            text += columns(rows, indent: "  ")
        }
        return text
    }

    /// "model abcdef123456, from version 1, cycle 1" (the initial model: "model …, the initial model").
    static func versionLineage(_ version: JobReport.Version) -> String {
        let model = "model \(version.model.prefix(12))"
        return version.parent == 0 ? "\(model), the initial model" : "\(model), from version \(version.parent), cycle \(version.cycle)"
    }

    /// "accuracy 0.9300 (+0.0500), f1 0.9100 (+0.0400)" (empty for a version nothing evaluated).
    static func versionMetrics(_ version: JobReport.Version) -> String {
        ["accuracy", "precision", "recall", "f1"].compactMap { name in metricCell(version, name).map { "\(name) \($0)" } }
            .joined(separator: ", ")
    }

    /// "0.9300 (+0.0500)", "0.9300" without a delta, nil without the metric.
    static func metricCell(_ version: JobReport.Version, _ name: String) -> String? {
        guard let value = version.metrics?[name] else { return nil }
        let delta = version.metrics?[name + "_delta"].map { " (" + String(format: "%+.4f", $0) + ")" } ?? ""
        return String(format: "%.4f", value) + delta
    }

    /// What the answering peer serves of the job.
    static func servingText(_ job: JobReport) -> String {
        guard job.deploysHere else { return "none on this peer (not a deploy peer)" }
        let served = job.servedVersion.flatMap { $0 == 0 ? nil : $0 }
        if let failure = job.servingFailure {
            return (served.map { "version \($0) here; " } ?? "") + "failed: \(failure)"
        }
        guard let served else { return "not yet on this peer" }
        if let current = job.currentVersion, current != served { return "version \(served) here (version \(current) is current)" }
        return "version \(served) here"
    }

    /// `task list`'s ROUND column of a job: "v2 train/waiting" (`-` for no version yet).
    static func jobProgress(_ job: JobReport) -> String {
        (job.currentVersion.map { "v\($0)" } ?? "-") + " \(job.stage)/\(job.status)"
    }

    /// `task watch`'s lines for what changed in a job: its new steps, then this peer's serving and
    /// why the job waits.
    static func jobChanges(from old: JobReport?, to new: JobReport) -> [String] {
        var lines: [String] = []
        let seen = old?.history.last?.round ?? 0
        for step in new.history where step.round > seen {
            lines.append("step \(step.round) (cycle \(step.cycle)): \(step.text)")
        }
        if let old {
            if old.servedVersion != new.servedVersion || old.servingFailure != new.servingFailure { lines.append("serving \(servingText(new))") }
            if let waiting = new.waitingFor, waiting != old.waitingFor { lines.append("waiting: \(waiting)") }
        }
        return lines
    }

    /// An IncrementalLearningJob: stages and versions, not rounds.
    static func isJob(_ task: TaskReport) -> Bool {
        task.job != nil || task.kind == TaskKindName.incrementalLearningJob.rawValue
    }
}
