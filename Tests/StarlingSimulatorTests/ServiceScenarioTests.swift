import StarlingCrypto
import StarlingPeer
import StarlingTasks
import StarlingTrust
import Testing
@testable import StarlingSimulator

/// A JointInferenceService in the simulator (simulations/service-failover.yaml): three cloud peers,
/// seventeen edges, the cloud peer coordinating it crashed midway and left down. The shipped checks
/// (line, fencing, lost commit, convergence) must pass, and the live peers must end on one
/// deployment, newer than the crash, that serves without the crashed peer.
@Suite struct ServiceScenarioTests {
    /// The models service-failover.yaml declares (`model.small`, `model.big`).
    static let smallModel = "a32259f25e29588ff4c942933f589902a9d84df9b3ebd0ece9ff20cda1a8a0b5"
    static let bigModel = "d551fd1cc5ba84948d4adaab6e388d96e6e54a7559b87d7e8f184df222d84f4e"
    /// Its cloud peers (`tier: cloud`).
    static let cloud = [0, 7, 14]

    @Test(arguments: [1, 2, 3] as [UInt64])
    func theLivePeersEndOnADeploymentWithoutTheCrashedCoordinator(seed: UInt64) throws {
        let (report, run) = try TaskScenarioTests.runShipped("service-failover.yaml", seed: seed)
        #expect(report.passed, "\(report.rendered)")
        let task = try #require(report.tasks.first)
        #expect(report.tasks.count == 1 && task.name == "joint-inference" && task.phase == "running", "\(report.rendered)")
        let failover = try #require(task.failovers.first, "\(report.rendered)")
        #expect(task.failovers.count == 1 && failover.cause == "crash_coordinator" && failover.outcome == "replaced",
                "\(report.rendered)")
        let simulation = run.simulation
        let crashed = try #require(simulation.index(named: failover.node))
        #expect(Self.cloud.contains(crashed) && !simulation.isUp(crashed))
        let crashedNode = try #require(simulation.identity(of: crashed))
        let live = (0..<simulation.nodeCount).filter { simulation.isUp($0) }
        #expect(live.count == simulation.nodeCount - 1)

        let services = try live.map { node in
            let summary = try #require(simulation.tasks(of: node).first { $0.name == "joint-inference" }, "node \(node)")
            return try #require(summary.service, "node \(node) follows no deployment")
        }
        let service = services[0]
        #expect(services.allSatisfy { $0.version == service.version && $0.cloudPeers.map(\.node) == service.cloudPeers.map(\.node)
            && $0.edgePeers.map(\.node) == service.edgePeers.map(\.node) }, "the live peers follow different deployments")
        // Newer than the crashed coordinator's: committed under a later epoch, version 2 or more.
        #expect(service.version >= 2)
        let committed = try #require(simulation.tasks(of: live[0]).first { $0.name == "joint-inference" }?.committed.last)
        #expect(committed.round == service.version && committed.epoch > failover.epoch && committed.coordinator != crashedNode)
        // The two cloud peers left serve in the cloud; every live edge at the edge; both models by their tags.
        let identities = { (nodes: [Int]) in Set(nodes.compactMap { simulation.identity(of: $0) }) }
        #expect(!service.cloudPeers.contains { $0.node == crashedNode })
        #expect(Set(service.cloudPeers.map(\.node)) == identities(Self.cloud.filter { $0 != crashed }))
        #expect(Set(service.edgePeers.map(\.node)) == identities(live.filter { !Self.cloud.contains($0) }))
        #expect(service.edgeModel.hex == Self.smallModel && service.cloudModel.hex == Self.bigModel)
        #expect(report.rendered.contains("deployed"), "\(report.rendered)")
    }

    @Test func theSameSeedGivesTheSameTrace() throws {
        let first = try TaskScenarioTests.runShipped("service-failover.yaml", seed: 3).0
        let second = try TaskScenarioTests.runShipped("service-failover.yaml", seed: 3).0
        #expect(first.traceHash == second.traceHash)
    }
}
