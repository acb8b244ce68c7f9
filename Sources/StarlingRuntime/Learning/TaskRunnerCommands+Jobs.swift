import StarlingLocalAPI
import StarlingPeer
import StarlingTrust

/// The local API's commands of an IncrementalLearningJob's model (docs/cli.md, "model versions",
/// "model rollback"): `model-versions` reads the job's summary; `model-rollback` asks the peer's
/// control plane to sign a rollback request (`ControlRequest.rollbackJob`), which checks the
/// version and the peer's role.
extension TaskRunnerCommands {
    func modelVersions(_ name: String) -> [UInt8] {
        switch job(name) {
        case let .success(summary):
            let report = report(summary)
            guard let job = report.job else { preconditionFailure("a job's report has its job part") }
            return LocalAPI.line(ModelVersionsResponse(task: report.id, name: report.name, deployModelName: job.deployModelName,
                                                       currentVersion: job.currentVersion, versions: job.versions))
        case let .failure(refusal):
            return LocalAPI.line(refusal)
        }
    }

    /// `version` nil or 0: the current version's parent.
    func modelRollback(_ name: String, version: UInt64?) -> [UInt8] {
        switch job(name) {
        case let .success(summary):
            // The job's full id, so the control plane asks the very job this command resolved.
            let answer = control(.rollbackJob(summary.id.text, version: version ?? 0))
            return LocalAPI.line(ControlResponse(ok: answer.ok, message: answer.message, fields: answer.fields))
        case let .failure(refusal):
            return LocalAPI.line(refusal)
        }
    }

    /// The IncrementalLearningJob `reference` names: by id, id prefix (8+ hex) or name; else the
    /// latest submitted job deploying a model of that name (a FederatedTask may share the name of
    /// the model a job deploys from it, so a job is preferred to a task of another kind).
    func job(_ reference: String) -> Result<TaskSummary, ErrorResponse> {
        let named = task(reference)
        if let named, named.job != nil { return .success(named) }
        if let deploying = tasks().filter({ $0.job?.deployModelName == reference }).max(by: { $0.submittedAt < $1.submittedAt }) {
            return .success(deploying)
        }
        if let named {
            return .failure(ErrorResponse(.noTask, "task \(named.name) is a \(named.kind); only an IncrementalLearningJob has model "
                + "versions"))
        }
        return .failure(ErrorResponse(.noTask, "no IncrementalLearningJob named \(reference), nor one deploying a model named "
            + "\(reference), on this peer"))
    }

    /// Node → name as this peer's membership knows them (for the peers a job's steps list).
    func nodeNames() -> [NodeID: String] {
        Dictionary(members().map { ($0.node, $0.name) }) { first, _ in first }
    }
}
