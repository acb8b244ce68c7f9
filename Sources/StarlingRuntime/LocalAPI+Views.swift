import StarlingLocalAPI
import StarlingPeer
import StarlingTrust

/// The local API's reports built from the core's views (ids in full hex).
extension Member {
    init(_ view: MemberView) {
        self.init(name: view.name, node: view.node.text, address: view.address.description, state: view.state.description,
                  incarnation: view.incarnation, tags: view.tags, local: view.isLocal)
    }
}

extension TaskReport {
    /// `gaveUp` is set by the task runner, which knows the workers it supervises. `names`: node →
    /// name, for the peers a job's steps list.
    init(_ summary: TaskSummary, names: [NodeID: String] = [:]) {
        self.init(id: summary.id.text, name: summary.name, kind: summary.kind, phase: summary.phase,
                  submitter: summary.submitter.text, submittedAt: summary.submittedAt, leaseValid: summary.leaseValid,
                  round: summary.round, rounds: summary.rounds, superseded: summary.superseded, stale: summary.stale,
                  entries: summary.entries)
        submitterName = summary.submitterName
        coordinator = summary.coordinator?.text
        coordinatorName = summary.coordinatorName
        epoch = summary.epoch
        leaseExpiresAt = summary.leaseExpiresAt
        announcedRound = summary.announcedRound
        roundDeadline = summary.roundDeadline
        participants = summary.participants.map {
            Participant(worker: $0.worker, node: $0.node.text, nodeName: $0.nodeName, state: $0.state, round: $0.round,
                        message: $0.message)
        }
        committed = summary.committed.map {
            Round(round: $0.round, epoch: $0.epoch, coordinator: $0.coordinator.text, modelHash: $0.modelHash.hex,
                  participants: $0.participants, metrics: $0.metrics, sampleCount: $0.sampleCount)
        }
        lastError = summary.lastError
        cancelReason = summary.cancelReason
        failure = summary.failure
        minNodeNumber = summary.minNodeNumber
        roundAttempts = summary.roundAttempts
        roundAttemptsMax = summary.roundAttemptsMax
        service = summary.service.map { service in
            func peers(_ list: [TaskSummary.ServicePeer]) -> [ServiceReport.Peer] {
                list.map { ServiceReport.Peer(node: $0.node.text, nodeName: $0.nodeName, up: $0.up) }
            }
            return ServiceReport(version: service.version, edgeModel: service.edgeModel.hex, cloudModel: service.cloudModel.hex,
                                 edgeModelName: service.edgeModelName, cloudModelName: service.cloudModelName,
                                 edgePeers: peers(service.edgePeers), cloudPeers: peers(service.cloudPeers),
                                 hardExampleMining: service.hardExampleMining)
        }
        job = summary.job.map { JobReport($0, names: names) }
    }
}
