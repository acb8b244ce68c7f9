import StarlingMembership
import StarlingPeer
import Testing
@testable import StarlingSimulator

@Suite struct CheckerTests {
    @Test func forgedNeverRunAndMisplacedMembersAreViolations() {
        let simulation = Simulation(configuration: SimulationConfiguration(seed: 1))
        let board = ViewBoard()
        TestNodes.addBoards(simulation, board, count: 3, started: { $0 < 2 })
        let check = LegitimateMembersCheck()
        simulation.addObserver(check)
        simulation.run(until: .seconds(1))
        #expect(check.violations.isEmpty)
        var moved = board.member(simulation, 1, .alive)
        moved = MemberView(name: moved.name, node: moved.node, address: TestNodes.address(50), state: .alive,
                           incarnation: 1, tags: [:], isLocal: false)
        board.views["n0"] = [
            board.member(simulation, 1, .alive),
            MemberView(name: "ghost", node: TestNodes.nodeID(99), address: TestNodes.address(99), state: .alive,
                       incarnation: 1, tags: [:], isLocal: false),
            board.member(simulation, 2, .suspect),
        ]
        board.views["n1"] = [moved]
        simulation.run(until: .seconds(2))
        let messages = check.violations.map(\.message)
        #expect(messages.count == 3, "\(messages)")
        #expect(messages.contains { $0.contains("'ghost'") && $0.contains("never admitted") })
        #expect(messages.contains { $0.contains("n2") && $0.contains("never run") })
        #expect(messages.contains { $0.contains("n1 holds") && $0.contains("but n1 is at") })
        // Reported once, not at every sample.
        simulation.run(until: .seconds(3))
        #expect(check.violations.count == 3)
    }

    static func falseDeath(strict: Bool, partitioned: Bool = false) -> FalseDeathCheck {
        let simulation = Simulation(configuration: SimulationConfiguration(seed: 1))
        let board = ViewBoard()
        TestNodes.addBoards(simulation, board, count: 5)
        board.everyone(simulation, observers: 0..<5, members: 0..<5)
        let check = FalseDeathCheck(grace: .seconds(2), strict: strict)
        simulation.addObserver(check)
        if partitioned { simulation.addPartition(Partition(name: "p", sideA: [4])) }
        simulation.run(until: .seconds(3))
        // Three of the four others hold n4 dead while it is up (and, unless partitioned, connected).
        for observer in 0..<3 {
            board.views["n\(observer)"] = (0..<5).filter { $0 != observer }.map { board.member(simulation, $0, $0 == 4 ? .dead : .alive) }
        }
        board.views["n3"] = (0..<5).filter { $0 != 3 }.map { board.member(simulation, $0, $0 == 4 ? .suspect : .alive) }
        simulation.run(until: .seconds(5))
        return check
    }

    @Test func aMajorityHoldingAConnectedNodeDeadFailsOnlyInStrictMode() {
        let strict = Self.falseDeath(strict: true)
        #expect(strict.violations.count == 1)
        #expect(strict.violations.first?.message.contains("n4 is up and connected") == true)
        #expect(strict.deadMarks == 3 && strict.suspectEvents == 1 && strict.majorityEpisodes == 1)

        let measured = Self.falseDeath(strict: false)
        #expect(measured.violations.isEmpty)
        #expect(measured.deadMarks == 3 && measured.majorityEpisodes == 1)

        let partitioned = Self.falseDeath(strict: true, partitioned: true)
        #expect(partitioned.violations.isEmpty && partitioned.deadMarks == 0)
    }

    @Test func convergenceNeedsEveryLiveNodeAliveAndEveryCrashedNodeGone() {
        let simulation = Simulation(configuration: SimulationConfiguration(seed: 1))
        let board = ViewBoard()
        TestNodes.addBoards(simulation, board, count: 4)
        let check = ConvergenceCheck(healAt: .seconds(1), bound: .seconds(2))
        simulation.addObserver(check)
        board.everyone(simulation, observers: 0..<4, members: 0..<4)
        board.views["n3"] = []
        simulation.run(until: .seconds(2.5))
        #expect(check.violations.isEmpty && check.convergedAt == nil)
        simulation.run(until: .seconds(3.5))
        #expect(check.violations.count == 1)
        #expect(check.violations.first?.message.contains("n3 holds n0 unknown (it is up)") == true)

        // A crash after the heal restarts the clock; the crashed node must then be dead or gone.
        simulation.crash(3)
        board.everyone(simulation, observers: 0..<3, members: 0..<4)
        simulation.run(until: .seconds(4))
        #expect(check.convergedAt == nil)
        board.views["n0"] = [board.member(simulation, 1, .alive), board.member(simulation, 2, .alive), board.member(simulation, 3, .dead)]
        board.views["n1"] = [board.member(simulation, 0, .alive), board.member(simulation, 2, .alive)]
        board.views["n2"] = [board.member(simulation, 0, .alive), board.member(simulation, 1, .alive), board.member(simulation, 3, .left)]
        simulation.run(until: .seconds(4.5))
        #expect(check.convergedAt != nil)
        #expect(check.violations.count == 1)
    }

    @Test func aRevokedNodeMustBeDroppedWithinTheBound() {
        let simulation = Simulation(configuration: SimulationConfiguration(seed: 1))
        let board = ViewBoard()
        TestNodes.addBoards(simulation, board, count: 3)
        board.everyone(simulation, observers: 0..<3, members: 0..<3)
        let check = RevocationCheck(bound: .seconds(2))
        simulation.addObserver(check)
        simulation.schedule(at: .seconds(1)) { $0.announceRevocation(of: 2) }
        simulation.run(until: .seconds(2.9))
        #expect(check.violations.isEmpty)
        board.views["n1"] = [board.member(simulation, 0, .alive), board.member(simulation, 2, .dead)]
        simulation.run(until: .seconds(4))
        #expect(check.violations.count == 1)
        #expect(check.violations.first?.message.hasPrefix("n0 still holds n2 alive") == true)
    }

    @Test func spreadAndDetectionAreMeasuredOnAHeartbeatCluster() {
        var configuration = SimulationConfiguration(seed: 4, network: NetworkModel(baseDelay: .milliseconds(3)))
        configuration.sampleInterval = .milliseconds(50)
        let simulation = Simulation(configuration: configuration)
        let spread = SpreadTracker()
        let detection = DetectionTracker(bound: nil)
        simulation.addObserver(spread)
        simulation.addObserver(detection)
        let nodes = TestNodes.addHeartbeats(simulation, count: 15)
        simulation.schedule(at: .seconds(10)) { $0.crash(nodes[3]) }
        simulation.run(until: .seconds(25))
        simulation.finish()
        let joins = spread.spreads.filter { $0.kind == .join }
        #expect(joins.count == 15 && joins.allSatisfy(\.complete))
        let crash = spread.spreads.first { $0.kind == .crash }
        #expect(crash?.complete == true)
        let full = crash.flatMap { $0.reached.last ?? nil }.map { ($0 - .seconds(10)).seconds } ?? 0
        #expect(full > 4 && full < 12)
        #expect(detection.delays.count == 14 && detection.undetected == 0)
        #expect(abs((detection.delays.max() ?? 0) - full) < 1e-9)
    }
}
