import StarlingCrypto
import StarlingMembership
import StarlingPeer
import StarlingTaskYAML
import StarlingTasks
import StarlingTrust
import Testing
@testable import StarlingSimulator

/// Tasks on simulated peers: a task submitted to one peer reaches all, they agree on one
/// coordinator, rounds commit once each, and a crashed coordinator is replaced at a higher epoch
/// from the last committed round.
@Suite struct TaskSimulationTests {
    static let spec = """
        apiVersion: edgeai.io/v1alpha1
        kind: FederatedTask
        metadata:
          name: sim-task
        spec:
          rounds: 6
          minNodeNumber: 2
          roundTimeout: 10s
          trainingWorkers:
            - name: w0
              workerSpec:
                dataset: {name: digits}
                trainScriptBootFile: builtin:logreg
            - name: w1
            - name: w2
        """

    static func specBytes() throws -> [UInt8] {
        switch TaskSpecLoader.load(text: spec) {
        case let .success(loaded): return loaded.spec.wireBytes
        case let .failure(errors): throw errors
        }
    }

    func cluster(seed: UInt64, nodes: Int = 6, loss: Double = 0, reapAfter: Duration? = nil, warm: Bool = true) -> Cluster {
        var network = NetworkModel(baseDelay: .milliseconds(5))
        network.loss = loss
        let simulation = Simulation(configuration: SimulationConfiguration(seed: seed, network: network))
        var configuration = ClusterConfiguration()
        configuration.roles = [.peer, .coordinator, .submit]
        // Warm: every node starts knowing the others (a joiner added later would know them too).
        configuration.warmStart = warm
        if let reapAfter { configuration.settings.reapAfter = reapAfter }
        let cluster = Cluster(simulation: simulation, configuration: configuration) { Peer(setup: $0) }
        cluster.addNodes(nodes)
        return cluster
    }

    /// Committed rounds of the task at every live node must be one line: rounds 1...n, once each.
    func expectOneLine(_ simulation: Simulation, nodes: [Int]) -> [TaskSummary] {
        let summaries = nodes.compactMap { simulation.tasks(of: $0).first }
        for summary in summaries {
            #expect(summary.committed.map(\.round) == Array(1...UInt64(max(1, summary.committed.count))).prefix(summary.committed.count).map { $0 },
                    "\(summary.name) at a node: rounds \(summary.committed.map(\.round))")
        }
        return summaries
    }

    @Test func aSubmittedTaskReachesEveryPeerAndCompletesUnderOneCoordinator() throws {
        let cluster = cluster(seed: 11)
        let simulation = cluster.simulation
        simulation.run(until: .seconds(3))
        let answer = try #require(simulation.control(3, .submitTask(specBytes: try Self.specBytes())))
        #expect(answer.ok, "\(answer.message)")
        simulation.run(until: .seconds(6))
        let known = cluster.honest.filter { !simulation.tasks(of: $0).isEmpty }
        #expect(known.count == 6, "the task reached \(known.count) of 6 peers within 3 s")
        simulation.run(until: .seconds(40))
        let summaries = expectOneLine(simulation, nodes: cluster.honest)
        #expect(summaries.count == 6)
        #expect(Set(summaries.map(\.phase)) == ["completed"])
        #expect(Set(summaries.compactMap(\.coordinator)).count == 1, "one coordinator everywhere")
        #expect(summaries.allSatisfy { $0.committed.count == 6 && $0.superseded == 0 })
    }

    @Test(arguments: [21, 22, 23] as [UInt64])
    func aCrashedCoordinatorIsReplacedAtAHigherEpochAndNothingCommittedIsLost(seed: UInt64) throws {
        let cluster = cluster(seed: seed, loss: 0.05)
        let simulation = cluster.simulation
        simulation.run(until: .seconds(3))
        #expect(simulation.control(1, .submitTask(specBytes: try Self.specBytes()))?.ok == true)
        // Run until two rounds are committed, then crash the coordinator.
        var coordinator: Int?
        var committedBefore: [UInt64] = []
        for second in 4...60 {
            simulation.run(until: .seconds(Double(second)))
            guard let summary = simulation.tasks(of: 1).first, summary.committed.count >= 2,
                  let holder = summary.coordinator, let index = simulation.index(of: holder) else { continue }
            coordinator = index
            committedBefore = summary.committed.map(\.round)
            break
        }
        let crashed = try #require(coordinator, "no coordinator committed two rounds")
        let epochBefore = try #require(simulation.tasks(of: crashed).first?.epoch)
        simulation.crash(crashed, storeSurvives: true)
        let crashedAt = simulation.now
        let survivors = cluster.honest.filter { $0 != crashed }
        var replacedAfter: Duration?
        for step in 1...120 {
            simulation.run(until: crashedAt + .milliseconds(Int64(step) * 500))
            let summaries = survivors.compactMap { simulation.tasks(of: $0).first }
            if summaries.count == survivors.count,
               summaries.allSatisfy({ ($0.epoch ?? 0) > epochBefore && $0.leaseValid && $0.coordinator != simulation.identity(of: crashed) }),
               Set(summaries.compactMap(\.coordinator)).count == 1 {
                replacedAfter = simulation.now - crashedAt
                break
            }
        }
        let replaced = try #require(replacedAfter, "no new coordinator everywhere within 60 s")
        #expect(replaced <= .seconds(30), "new lease after \(replaced)")
        simulation.run(until: simulation.now + .seconds(60))
        let summaries = expectOneLine(simulation, nodes: survivors)
        for summary in summaries {
            #expect(Array(summary.committed.map(\.round).prefix(committedBefore.count)) == committedBefore,
                    "rounds committed before the crash are still on the line")
            #expect(summary.phase == "completed")
        }
    }

    /// Both sides of a partition elect a coordinator and go on; after the heal every peer holds the
    /// same state, one line of rounds (no round twice), the other side's commits kept as superseded.
    @Test(arguments: [31, 32, 33, 34] as [UInt64])
    func bothSidesOfAPartitionGoOnAndConvergeOnOneLineAfterTheHeal(seed: UInt64) throws {
        let cluster = cluster(seed: seed, loss: 0.02)
        let simulation = cluster.simulation
        simulation.run(until: .seconds(3))
        #expect(simulation.control(0, .submitTask(specBytes: try Self.specBytes()))?.ok == true)
        simulation.run(until: .seconds(6))
        let sideA = Set(cluster.honest.prefix(3)), sideB = Set(cluster.honest.suffix(3))
        simulation.addPartition(Partition(name: "split", sideA: sideA, sideB: sideB))
        simulation.run(until: .seconds(40))
        // Each side has a coordinator of its own by now (the workers of the task are placed on the
        // live peers of each side, so each side can commit rounds).
        let coordinatorsA = Set(sideA.compactMap { simulation.tasks(of: $0).first?.coordinator })
        let coordinatorsB = Set(sideB.compactMap { simulation.tasks(of: $0).first?.coordinator })
        #expect(coordinatorsA.count == 1 && coordinatorsB.count == 1 && coordinatorsA != coordinatorsB,
                "each side coordinates on its own: \(coordinatorsA.map(\.short)) / \(coordinatorsB.map(\.short))")
        simulation.removePartition(named: "split")
        simulation.run(until: .seconds(120))
        let summaries = expectOneLine(simulation, nodes: cluster.honest)
        #expect(summaries.count == 6)
        #expect(Set(summaries.map { $0.committed.map(\.round) }).count == 1, "every peer holds the same line")
        #expect(Set(summaries.map(\.entries)).count == 1, "every peer holds the same entries")
        #expect(Set(summaries.map(\.phase)) == ["completed"])
        #expect(summaries.allSatisfy { $0.superseded + $0.stale > 0 }, "the losing side's entries are kept, marked")
    }

    /// A peer that joins after the submitter and the first coordinator are gone (left and reaped)
    /// still learns the task: the pull brings their certificates, verified against the authority.
    @Test func aLateJoinerLearnsATaskWhoseSubmitterIsGone() throws {
        let cluster = cluster(seed: 41, nodes: 5, reapAfter: .seconds(10), warm: false)
        let simulation = cluster.simulation
        simulation.run(until: .seconds(3))
        #expect(simulation.control(0, .submitTask(specBytes: try Self.specBytes()))?.ok == true)
        simulation.run(until: .seconds(8))
        simulation.leave(0)
        simulation.run(until: .seconds(40))
        let late = cluster.addNode(startAt: simulation.now)
        simulation.run(until: simulation.now + .seconds(30))
        let summary = try #require(simulation.tasks(of: late).first, "the late joiner never learned the task")
        let reference = try #require(simulation.tasks(of: 1).first)
        #expect(summary.entries == reference.entries)
        #expect(summary.committed.map(\.round) == reference.committed.map(\.round))
        #expect(simulation.counters(of: late)["tasks.specs rejected unknown author"] == nil)
    }

    /// A peer restarted with its store resumes with its tasks at once (before any pull); one whose
    /// store was lost learns them again from the others.
    @Test func aRestartedPeerResumesWithItsStoredTasks() throws {
        let cluster = cluster(seed: 51, nodes: 4)
        let simulation = cluster.simulation
        simulation.run(until: .seconds(3))
        #expect(simulation.control(0, .submitTask(specBytes: try Self.specBytes()))?.ok == true)
        simulation.run(until: .seconds(20))
        let before = try #require(simulation.tasks(of: 2).first)
        simulation.crash(2, storeSurvives: true)
        simulation.crash(3, storeSurvives: false)
        simulation.run(until: .seconds(22))
        simulation.restart(2)
        simulation.restart(3)
        simulation.run(until: simulation.now + .milliseconds(1))
        let resumed = try #require(simulation.tasks(of: 2).first, "the stored task is back at start")
        #expect(resumed.entries >= before.entries)
        #expect(simulation.tasks(of: 3).isEmpty, "a lost store holds nothing")
        simulation.run(until: simulation.now + .seconds(10))
        #expect(simulation.tasks(of: 3).first?.id == before.id, "relearned from the others")
    }
}

/// Round 1 from an imported starting model (`aggregationWorker.model.name`, declared with
/// `model.<name>` tags by the peers that imported it).
@Suite struct StartingModelSimulationTests {
    static func spec(model: String) throws -> [UInt8] {
        let text = TaskSimulationTests.spec.replacingOccurrences(
            of: "spec:\n", with: "spec:\n  aggregationWorker:\n    model: {name: \(model)}\n")
        switch TaskSpecLoader.load(text: text) {
        case let .success(loaded): return loaded.spec.wireBytes
        case let .failure(errors): throw errors
        }
    }

    func cluster(seed: UInt64, tags: @escaping (Int) -> [String: String]) -> Cluster {
        let simulation = Simulation(configuration: SimulationConfiguration(seed: seed, network: NetworkModel(baseDelay: .milliseconds(5))))
        var configuration = ClusterConfiguration()
        configuration.roles = [.peer, .coordinator, .submit]
        configuration.warmStart = true
        configuration.tags = tags
        let cluster = Cluster(simulation: simulation, configuration: configuration) { Peer(setup: $0) }
        cluster.addNodes(5)
        return cluster
    }

    @Test(arguments: [1, 2] as [UInt64])
    func roundOneStartsFromTheImportedModel(seed: UInt64) throws {
        let imported = ContentHash.of(Array("an imported model".utf8))
        // Only node 4 imported it: the coordinator fetches it from there, then announces round 1 on it.
        let cluster = cluster(seed: seed) { $0 == 4 ? [ModelTags.tag(for: "start"): ModelTags.value(for: imported)] : [:] }
        cluster.simulation.run(until: .seconds(2))
        #expect(cluster.simulation.control(0, .submitTask(specBytes: try Self.spec(model: "start")))?.ok == true)
        var firstBase: ContentHash?
        for tenth in 21...300 where firstBase == nil {
            cluster.simulation.run(until: Instant(nanoseconds: Int64(tenth) * 100_000_000))
            if let summary = cluster.simulation.tasks(of: 1).first, summary.announcedRound == 1 {
                firstBase = summary.announcedBaseModel
            }
        }
        cluster.simulation.run(until: .seconds(30))
        #expect(firstBase == imported)
        let summary = try #require(cluster.simulation.tasks(of: 0).first)
        #expect(summary.committed.count >= 2, "rounds go on from the imported model: \(summary.committed.map(\.round))")
        // A name nobody declares: round 1 starts from the seed.
        let seedOnly = self.cluster(seed: seed) { _ in [:] }
        seedOnly.simulation.run(until: .seconds(2))
        #expect(seedOnly.simulation.control(0, .submitTask(specBytes: try Self.spec(model: "start")))?.ok == true)
        seedOnly.simulation.run(until: .seconds(6))
        #expect(seedOnly.simulation.tasks(of: 0).first?.committed.isEmpty == false)
    }

    @Test func differentContentsUnderOneNameHoldRoundOneBack() throws {
        let cluster = cluster(seed: 3) { k in
            k >= 3 ? [ModelTags.tag(for: "start"): ModelTags.value(for: ContentHash.of([UInt8(k)]))] : [:]
        }
        cluster.simulation.run(until: .seconds(2))
        #expect(cluster.simulation.control(0, .submitTask(specBytes: try Self.spec(model: "start")))?.ok == true)
        cluster.simulation.run(until: .seconds(20))
        let summary = try #require(cluster.simulation.tasks(of: 0).first)
        #expect(summary.coordinator != nil && summary.announcedRound == nil && summary.committed.isEmpty)
        let conflicts = cluster.honest.map { cluster.simulation.counters(of: $0)["tasks.starting model conflicts"] ?? 0 }
        #expect(conflicts.reduce(0, +) == 1, "logged once, by the coordinator: \(conflicts)")
    }
}
