import StarlingMembership
import StarlingTasks

extension Peer {
    /// `starling model rollback`: signs a rollback request into the job, which its coordinator
    /// answers with a step (the version serving again, or why not). Checked here first, so a user
    /// hears of a version that does not exist at once; the coordinator checks again.
    mutating func rollbackJob(_ reference: String, version: UInt64, now: Instant, effects: inout [PeerEffect]) -> ControlAnswer {
        let id = taskBook.resolve(reference) ?? taskBook.states.values
            .filter { $0.spec.incrementalLearningJob?.deploySpec.model.name == reference }
            .max { ($0.signedSpec.submittedAt, $0.id) < ($1.signedSpec.submittedAt, $1.id) }?.id
        guard let id, let state = taskBook.states[id] else {
            return ControlAnswer(ok: false, message: "no IncrementalLearningJob named \(reference), nor one deploying a model named \(reference)")
        }
        guard state.spec.incrementalLearningJob != nil, let view = state.view.incremental else {
            return ControlAnswer(ok: false, message: "task \(state.spec.name) is a \(state.spec.kind.name); only an IncrementalLearningJob has model versions")
        }
        guard membership.certificate.roles.contains(.submit) else {
            return ControlAnswer(ok: false, message: "this peer's certificate does not carry the submit role, which rollback needs")
        }
        guard state.view.phase == .running || state.view.phase == .pending else {
            return ControlAnswer(ok: false, message: "job \(state.spec.name) is \(state.view.phase); it serves nothing to roll back")
        }
        let versions = view.versions.map(\.version)
        guard let current = view.current else { return ControlAnswer(ok: false, message: "job \(state.spec.name) has deployed no version yet") }
        let wanted = version == 0 ? current.parent : version
        guard wanted != 0 else {
            return ControlAnswer(ok: false, message: "version \(current.version) is the initial model; there is no earlier version")
        }
        guard versions.contains(wanted) else {
            return ControlAnswer(ok: false, message: "job \(state.spec.name) has no version \(wanted) (versions: "
                + versions.map(String.init).joined(separator: ", ") + ")")
        }
        guard wanted != current.version else {
            return ControlAnswer(ok: true, message: "job \(state.spec.name) serves version \(wanted) already", fields: ["id": id.text])
        }
        let outcome = sign(.rollback(RollbackRequest(version: wanted, requestedAt: unixNow(now))), task: id, effects: &effects)
        guard outcome == .added || outcome == .duplicate else { return ControlAnswer(ok: false, message: "rollback refused: \(outcome)") }
        count("jobs.rollbacks requested")
        return ControlAnswer(ok: true, message: "job \(state.spec.name): rollback from version \(current.version) to \(wanted) requested; "
                             + "its coordinator commits it and the serving workers follow", fields: ["id": id.text, "version": String(wanted)])
    }
}
