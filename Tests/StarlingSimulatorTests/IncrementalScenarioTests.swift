import StarlingCrypto
import StarlingPeer
import StarlingTasks
import StarlingTrust
import Testing
@testable import StarlingSimulator

/// An IncrementalLearningJob in the simulator (simulations/incremental-failover.yaml): two cloud
/// peers coordinate, four peers hold the dataset; the coordinator crashes mid-cycle and stays
/// down. The shipped checks must pass, the other cloud peer must finish the cycle, the candidate
/// must be deployed exactly once, and every live peer must hold the same history.
@Suite struct IncrementalScenarioTests {
    static let holders = [1, 4, 7, 10]

    @Test(arguments: [1, 2, 3] as [UInt64])
    func theCycleSurvivesTheCoordinatorsCrashAndDeploysOnce(seed: UInt64) throws {
        let (report, run) = try TaskScenarioTests.runShipped("incremental-failover.yaml", seed: seed)
        #expect(report.passed, "\(report.rendered)")
        let task = try #require(report.tasks.first)
        #expect(task.name == "incremental" && task.phase == "running", "\(report.rendered)")
        let failover = try #require(task.failovers.first, "\(report.rendered)")
        #expect(failover.outcome == "replaced", "\(report.rendered)")
        let simulation = run.simulation
        let live = (0..<simulation.nodeCount).filter { simulation.isUp($0) }
        let jobs = try live.map { node in
            try #require(simulation.tasks(of: node).first { $0.name == "incremental" }?.job, "node \(node) holds no job")
        }
        let job = jobs[0]
        #expect(jobs.allSatisfy { $0.history == job.history && $0.versions == job.versions }, "the live peers disagree")
        // Version 1 (the initial model), then the cycle's candidate once, trained on all four holders.
        #expect(job.versions.map(\.version) == [1, 2], "\(job.history.map(\.step))")
        #expect(job.current?.version == 2 && job.current?.parent == 1 && job.current?.cycle == 1)
        let trainings = job.history.compactMap { transition -> StageWork? in
            if case let .training(work) = transition.step { return work }
            return nil
        }
        #expect(trainings.count == 1 && trainings.first?.peers.count == Self.holders.count)
        #expect(job.stage == .train && job.status == .waiting && job.cycle == 2)
        // The holders serve version 2; the others serve nothing.
        for node in live {
            let summary = try #require(simulation.tasks(of: node).first { $0.name == "incremental" }?.job)
            #expect(summary.deploysHere == Self.holders.contains(node), "node \(node)")
            if Self.holders.contains(node) { #expect(summary.servedVersion == 2, "node \(node)") }
        }
    }

    @Test func theSameSeedGivesTheSameTrace() throws {
        let first = try TaskScenarioTests.runShipped("incremental-failover.yaml", seed: 2).0
        let second = try TaskScenarioTests.runShipped("incremental-failover.yaml", seed: 2).0
        #expect(first.traceHash == second.traceHash)
    }
}
