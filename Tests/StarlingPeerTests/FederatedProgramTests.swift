import StarlingCrypto
import StarlingMembership
@testable import StarlingPeer
import StarlingTasks
import StarlingTrust
import Testing

/// FederatedTask's program driven directly: a task state built entry by entry, a fake host, and the
/// effects the program answers with. No peer, no network: the program is a pure function.
@Suite struct FederatedProgramTests {
    static let unix: UInt64 = 1_800_000_000
    let keys = (0..<3).map { try! SigningKey(seed: [UInt8](repeating: UInt8(0x40 + $0), count: 32)) }
    var nodes: [NodeID] { keys.map { NodeID($0.publicKey) } }

    /// A host that knows three live peers, no datasets, no models.
    struct FakeHost: TaskHost {
        var me: NodeID
        var aliveNodes: [NodeID]
        var taskSettings = TaskSettings()
        var tags: [NodeID: [String: String]] = [:]
        var models: Set<ContentHash> = []

        func tags(of node: NodeID) -> [String: String] { tags[node] ?? [:] }
        func name(of node: NodeID) -> String? { aliveNodes.firstIndex(of: node).map { "node-\($0)" } }
        func blobSource(_ node: NodeID) -> BlobSource? {
            aliveNodes.firstIndex(of: node).map { BlobSource(node: node, address: PeerAddress(host: "10.0.0.\($0 + 1)", port: 7946)) }
        }
        func holdsModel(_ hash: ContentHash) -> Bool { models.contains(hash) }
        func lastCommitEntry(of id: TaskID) -> TaskEntry? { nil }
        func isUp(_ node: NodeID) -> Bool { aliveNodes.contains(node) }
        func committedModel(ofTaskNamed name: String) -> (model: ContentHash, holders: [NodeID])? { nil }
    }

    static func spec(minNodeNumber: Int, retries: Int = 3, evaluation: String? = nil) -> TaskSpec {
        let script = ScriptSpec(bootFile: .builtin(.logreg))
        let workers = (0..<3).map { TrainingWorker(name: "w\($0)", dataset: DatasetRef(name: "digits"), script: script) }
        var rounds = RoundSettings(rounds: 2, minNodeNumber: minNodeNumber, roundTimeout: .seconds(60))
        rounds.roundRetries = retries
        return TaskSpec(name: "program", kind: .federatedTask(FederatedTaskSpec(
            aggregationWorker: AggregationWorker(evaluationDataset: evaluation.map { DatasetRef(name: $0) }),
            trainingWorkers: workers, rounds: rounds)))
    }

    /// A task held by node 0 at epoch 1, with `bodies` signed by node `by` (0 when not given).
    func state(_ spec: TaskSpec, _ bodies: [(TaskEntryBody, Int)] = []) throws -> TaskState {
        let signed = try SignedTaskSpec.sign(spec, submittedAt: Self.unix, with: keys[0])
        var state = TaskState(spec: signed)
        let lease = Lease(epoch: 1, holder: nodes[0], base: nil, expiresAt: Self.unix + 15, capacity: 1)
        for (body, author) in [(TaskEntryBody.lease(lease), 0)] + bodies {
            let outcome = state.merge(TaskEntry.sign(body, task: signed.id, with: keys[author]),
                                      roles: { _ in [.peer, .coordinator, .submit] }, verifier: SignatureCache())
            try #require(outcome == .added, "\(body.kind): \(outcome)")
        }
        return state
    }

    func task(_ state: TaskState, unix: UInt64 = unix) -> ProgramTask<FederatedTaskSpec> {
        let view = state.view
        return ProgramTask(id: state.id, state: state, view: view, spec: state.spec.federatedTask!, lease: view.currentLease,
                           now: .zero, unix: unix)
    }

    func announcement(_ state: TaskState, deadline: UInt64 = unix + 60) -> RoundAnnouncement {
        RoundAnnouncement(epoch: 1, round: 1, baseModel: ModelHash.none,
                          participants: (0..<3).map { Participant(worker: "w\($0)", node: nodes[$0]) }, deadline: deadline)
    }

    static func signed(_ effects: [ProgramEffect]) -> [TaskEntryBody] {
        effects.compactMap { if case let .sign(body, _, _, _, _) = $0 { return body } else { return nil } }
    }

    static func work(_ effects: [ProgramEffect]) -> [FederatedWork] {
        effects.compactMap { if case let .work(.federated(work)) = $0 { return work } else { return nil } }
    }

    @Test func theHolderAnnouncesRoundOneToEveryPlacedWorker() throws {
        let state = try state(Self.spec(minNodeNumber: 2))
        var local = FederatedProgram.Local()
        let host = FakeHost(me: nodes[0], aliveNodes: nodes)
        let effects = FederatedProgram.coordinate(task(state), host: host, local: &local)
        guard case let .announce(announced)? = Self.signed(effects).first?.federated else {
            Issue.record("no announcement: \(effects)")
            return
        }
        #expect(announced.round == 1 && announced.epoch == 1 && announced.baseModel == ModelHash.none)
        #expect(announced.participants.map(\.worker) == ["w0", "w1", "w2"])
        #expect(Set(announced.participants.map(\.node)) == Set(nodes), "three workers spread over three peers")
        #expect(announced.deadline == Self.unix + 60)
    }

    @Test func updatesAreCollectedThenAggregatedOnceMinNodeNumberAreFolded() throws {
        var state = try state(Self.spec(minNodeNumber: 2))
        state = try self.state(Self.spec(minNodeNumber: 2), [
            (.announce(announcement(state)), 0),
            (.report(WorkerReport(worker: "w1", epoch: 1, round: 1, state: .submitted,
                                  update: UpdateRef(hash: ContentHash.of([1]), sampleCount: 10))), 1),
        ])
        var local = FederatedProgram.Local()
        let host = FakeHost(me: nodes[0], aliveNodes: nodes)
        let first = FederatedProgram.coordinate(task(state), host: host, local: &local)
        #expect(Self.work(first).count == 1)
        guard case let .collect(order)? = Self.work(first).first else { Issue.record("no collect: \(first)"); return }
        #expect(order.worker == "w1" && order.source.node == nodes[1])
        // Asked once: the same state asks for nothing more.
        #expect(Self.work(FederatedProgram.coordinate(task(state), host: host, local: &local)).isEmpty)
        _ = FederatedProgram.workDone(.collected(task: state.id, epoch: 1, round: 1, worker: "w1", rejection: nil),
                                      task: task(state), host: host, local: &local)
        #expect(Self.work(FederatedProgram.coordinate(task(state), host: host, local: &local)).isEmpty, "1 of 2 folded")
        local.round?.folded.insert("w2")
        let ready = FederatedProgram.coordinate(task(state), host: host, local: &local)
        guard case let .aggregate(aggregate)? = Self.work(ready).first else { Issue.record("no aggregate: \(ready)"); return }
        #expect(aggregate.round == 1 && local.round?.aggregating == true)
    }

    @Test func anAggregationShortOfMinNodeNumberIsNeverCommitted() throws {
        var state = try state(Self.spec(minNodeNumber: 2))
        state = try self.state(Self.spec(minNodeNumber: 2), [(.announce(announcement(state)), 0)])
        let host = FakeHost(me: nodes[0], aliveNodes: nodes)
        var local = FederatedProgram.Local()
        local.round = FederatedProgram.RoundProgress(key: .init(epoch: 1, round: 1), base: ModelHash.none,
                                                     folded: ["w0", "w1"], aggregating: true)
        var short = local
        let model = ContentHash.of([9])
        let shortEffects = FederatedProgram.workDone(
            .aggregated(task: state.id, epoch: 1, round: 1, AggregatedRound(model: model, participants: ["w0"], sampleCount: 10, metrics: [:])),
            task: task(state), host: host, local: &short)
        #expect(!shortEffects.contains { if case .commit = $0 { return true } else { return false } })
        let full = FederatedProgram.workDone(
            .aggregated(task: state.id, epoch: 1, round: 1,
                        AggregatedRound(model: model, participants: ["w0", "w1"], sampleCount: 20, metrics: ["loss": 0.5])),
            task: task(state), host: host, local: &local)
        let commits = full.compactMap { effect -> RoundCommit? in
            if case let .commit(.federated(.commit(commit)), _) = effect { return commit } else { return nil }
        }
        #expect(commits.map(\.participants) == [["w0", "w1"]] && commits.first?.modelHash == model)
        #expect(local.round == nil, "the round is done on the coordinator's side")
    }

    @Test func aRoundPastItsRetriesFailsTheTaskNamingTheMissingWorkers() throws {
        var state = try state(Self.spec(minNodeNumber: 3, retries: 0))
        state = try self.state(Self.spec(minNodeNumber: 3, retries: 0), [
            (.announce(announcement(state, deadline: Self.unix + 60)), 0),
            (.report(WorkerReport(worker: "w2", epoch: 1, round: 1, state: .failed, message: "no GPU here")), 2),
        ])
        var local = FederatedProgram.Local()
        let host = FakeHost(me: nodes[0], aliveNodes: nodes)
        let effects = FederatedProgram.coordinate(task(state, unix: Self.unix + 61), host: host, local: &local)
        guard case let .fail(failure)? = Self.signed(effects).first else { Issue.record("no failure: \(effects)"); return }
        #expect(failure.round == 1 && failure.epoch == 1)
        #expect(failure.reason.contains("0 of the 3 updates") && failure.reason.contains("w2 on node-2: failed in round 1: no GPU here"),
                "\(failure.reason)")
    }

    @Test func aParticipantTrainsEachOfItsWorkersOncePerRound() throws {
        var state = try state(Self.spec(minNodeNumber: 2))
        state = try self.state(Self.spec(minNodeNumber: 2), [(.announce(announcement(state)), 0)])
        var local = FederatedProgram.Local()
        let host = FakeHost(me: nodes[1], aliveNodes: nodes)
        let first = Self.work(FederatedProgram.participate(task(state), host: host, local: &local))
        guard case let .train(order)? = first.first, first.count == 1 else { Issue.record("\(first)"); return }
        #expect(order.worker == "w1" && order.round == 1 && order.sources.first?.node == nodes[0], "the coordinator first")
        #expect(Self.work(FederatedProgram.participate(task(state), host: host, local: &local)).isEmpty)
    }

    @Test func whileAPeerDeclaresTheEvaluationDatasetOnlyThosePeersCoordinate() {
        var host = FakeHost(me: nodes[0], aliveNodes: nodes)
        let candidates = nodes.map { CoordinatorElection.Candidate(node: $0, capacity: 1) }
        let spec = Self.spec(minNodeNumber: 2, evaluation: "digits-test").federatedTask!
        #expect(FederatedProgram.coordinators(candidates, spec: spec, host: host).count == 3, "nobody declares it: anyone")
        host.tags[nodes[2]] = [DatasetTags.key("digits-test"): "csv,100,10"]
        #expect(FederatedProgram.coordinators(candidates, spec: spec, host: host).map(\.node) == [nodes[2]])
    }
}
