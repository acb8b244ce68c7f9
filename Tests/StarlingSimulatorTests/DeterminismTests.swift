import StarlingMembership
import StarlingPeer
import Testing
@testable import StarlingSimulator

@Suite struct DeterminismTests {
    /// A lossy, jittery, duplicating heartbeat cluster with a crash and a restart.
    static func run(seed: UInt64, nodes: Int = 30) -> (hash: UInt64, statistics: SimulationStatistics) {
        var network = NetworkModel(baseDelay: .milliseconds(2), jitter: .exponential(mean: .milliseconds(5)),
                                   loss: 0.05, duplication: 0.02)
        network.baseDelayMax = .milliseconds(8)
        let simulation = Simulation(configuration: SimulationConfiguration(seed: seed, network: network))
        _ = TestNodes.addHeartbeats(simulation, count: nodes)
        simulation.schedule(at: .seconds(5)) { $0.crash(3, storeSurvives: false) }
        simulation.schedule(at: .seconds(8)) { $0.restart(3) }
        simulation.run(until: .seconds(15))
        return (simulation.traceHash, simulation.statistics)
    }

    @Test func sameSeedGivesTheSameRun() {
        let first = Self.run(seed: 42), second = Self.run(seed: 42)
        #expect(first.hash == second.hash)
        #expect(first.statistics == second.statistics)
        #expect(first.statistics.events > 5_000)
        #expect(first.statistics.datagramsLost > 0 && first.statistics.datagramsDuplicated > 0)
    }

    @Test func differentSeedsGiveDifferentRuns() {
        #expect(Self.run(seed: 1).hash != Self.run(seed: 2).hash)
    }

    @Test func addingANodeDoesNotChangeAnotherNodesRandomness() {
        /// The first number node 2 draws, in a run with `extra` more nodes added after it.
        func probeDraw(extra: Int, seed: UInt64 = 9) -> UInt64 {
            let simulation = Simulation(configuration: SimulationConfiguration(seed: seed))
            let recorder = Recorder()
            var draws: [UInt64] = []
            TestNodes.addScripted(simulation, recorder)
            TestNodes.addScripted(simulation, recorder)
            simulation.addNode(NodeSpec(name: "probe", address: TestNodes.address(2), makeMachine: { _ in
                DrawingMachine { draws.append($0) }
            }))
            for _ in 0..<extra { TestNodes.addScripted(simulation, recorder) }
            for node in (0..<simulation.nodeCount).reversed() { simulation.start(node) }
            simulation.run(until: .seconds(1))
            return draws.first ?? 0
        }
        #expect(probeDraw(extra: 0) == probeDraw(extra: 5))
        #expect(probeDraw(extra: 0) != probeDraw(extra: 0, seed: 10))
    }

    @Test func streamsAreIndependentOfEachOther() {
        let streams = SeedStreams(seed: 7)
        var a = streams.generator(.machine, 3), b = streams.generator(.machine, 3), c = streams.generator(.machine, 4)
        #expect(a.next() == b.next())
        #expect(streams.childSeed(.machine, 3) != streams.childSeed(.network, 3))
        #expect(a.next() != c.next())
    }
}

/// Draws one number at start and hands it out.
struct DrawingMachine: PeerMachine {
    let report: (UInt64) -> Void
    var members: [MemberView] { [] }
    var counters: [String: UInt64] { [:] }
    mutating func handle<R: RandomNumberGenerator>(_ input: PeerInput, now: Instant, random: inout R) -> [PeerEffect] {
        if case .start = input { report(random.next()) }
        return []
    }
}
