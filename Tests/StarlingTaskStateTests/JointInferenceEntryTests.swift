import StarlingCrypto
@testable import StarlingTasks
import StarlingTrust
import StarlingWire
import Testing

/// A JointInferenceService's deployments: their encoding, their rules, and the view's current one.
@Suite struct JointInferenceEntryTests {
    let fixture = TaskFixture()
    let signed: SignedTaskSpec

    init() {
        let script = WorkerSpec(script: ScriptSpec(bootFile: .builtin(.logreg)))
        let spec = TaskSpec(name: "serve", kind: .jointInferenceService(JointInferenceServiceSpec(
            edgeWorker: EdgeInferenceWorker(model: ModelRef(name: "small"), hardExampleMining: HardExampleMining(name: "Threshold"),
                                            workerSpec: script),
            cloudWorker: CloudInferenceWorker(model: ModelRef(name: "big"), workerSpec: script))))
        signed = try! SignedTaskSpec.sign(spec, submittedAt: TaskFixture.now, with: TaskFixture.key(10))
    }

    func deployment(_ version: UInt64, epoch: UInt64 = 1, edges: [Int] = [20, 21], clouds: [Int] = [1]) -> ServiceDeployment {
        ServiceDeployment(epoch: epoch, version: version, edgeModel: TaskFixture.model(1), cloudModel: TaskFixture.model(2),
                          edgePeers: edges.map(TaskFixture.node), cloudPeers: clouds.map(TaskFixture.node))
    }

    func entry(_ body: TaskEntryBody, by index: Int) -> TaskEntry { TaskEntry.sign(body, task: signed.id, with: TaskFixture.key(index)) }

    func lease(_ epoch: UInt64, by index: Int, base: CommitRef? = nil) -> TaskEntry {
        entry(.lease(Lease(epoch: epoch, holder: TaskFixture.node(index), base: base, expiresAt: TaskFixture.now + 60,
                           renewal: 0, capacity: 1)), by: index)
    }

    @Test func aDeploymentRoundTripsAndSortsItsPeers() throws {
        let original = entry(.deploy(deployment(3, edges: [22, 20, 20])), by: 0)
        let decoded = try TaskEntry(wireBytes: original.wireBytes)
        #expect(decoded == original && decoded.wireBytes == original.wireBytes)
        guard case let .deploy(deployment)? = decoded.body.jointInference else { Issue.record("not a deploy"); return }
        #expect(deployment.edgePeers == [TaskFixture.node(20), TaskFixture.node(22)].sorted())
        #expect(decoded.kind == .deploy)
        #expect(deployment.ref.round == 3 && deployment.ref.modelHash == ModelHash.none)
    }

    @Test func unsortedPeersDoNotDecode() {
        var writer = WireWriter()
        writer.writeVarint(1)
        writer.writeVarint(1)
        writer.writeFixed(TaskFixture.model(1).bytes)
        writer.writeFixed(TaskFixture.model(2).bytes)
        let nodes = [TaskFixture.node(20), TaskFixture.node(21)].sorted()
        writer.writeList([nodes[1], nodes[0]])
        writer.writeList([NodeID]())
        var reader = WireReader(writer.bytes)
        #expect(throws: WireError.self) { _ = try ServiceDeployment(from: &reader) }
    }

    @Test func theViewFollowsTheLineAndRefusesBadDeployments() {
        var state = TaskState(spec: signed)
        #expect(state.merge(lease(1, by: 0), roles: fixture.lookup, verifier: fixture.cache) == .added)
        #expect(state.merge(entry(.deploy(deployment(1)), by: 0), roles: fixture.lookup, verifier: fixture.cache) == .added)
        let second = deployment(2, clouds: [1, 2])
        #expect(state.merge(entry(.deploy(second), by: 0), roles: fixture.lookup, verifier: fixture.cache) == .added)
        #expect(state.view.jointInference?.current?.deployment == second)
        #expect(state.view.jointInference?.deployments.map(\.version) == [1, 2])
        #expect(second.roles(of: TaskFixture.node(1)) == [.cloud])
        #expect(second.roles(of: TaskFixture.node(20)) == [.edge])
        // Rules: an edge peer at least, both models, the coordinator role, the right kind.
        let noEdges = entry(.deploy(deployment(3, edges: [])), by: 0)
        if case .added = state.merge(noEdges, roles: fixture.lookup, verifier: fixture.cache) { Issue.record("no edge peers accepted") }
        let byPlainPeer = entry(.deploy(deployment(3)), by: 20)
        if case .added = state.merge(byPlainPeer, roles: fixture.lookup, verifier: fixture.cache) { Issue.record("a plain peer deployed") }
        var federated = fixture.state()
        let inFederated = TaskEntry.sign(.deploy(deployment(1)), task: fixture.task, with: TaskFixture.key(0))
        if case .added = federated.merge(inFederated, roles: fixture.lookup, verifier: fixture.cache) {
            Issue.record("a deployment was accepted in a FederatedTask")
        }
    }
}
