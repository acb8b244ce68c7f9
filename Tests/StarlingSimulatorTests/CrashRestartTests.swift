import StarlingMembership
import StarlingPeer
import Testing
@testable import StarlingSimulator

@Suite struct CrashRestartTests {
    @Test func aCrashDropsTimersAndDatagramsInFlight() {
        let simulation = Simulation(configuration: SimulationConfiguration(seed: 1, network: NetworkModel(baseDelay: .milliseconds(100))))
        let recorder = Recorder()
        // n0 sends to n1 at start; n1 sets a 5 s timer at each start.
        TestNodes.addScripted(simulation, recorder) { input, _ in
            if case .start = input { return [.sendDatagram([42], to: TestNodes.address(1))] }
            return []
        }
        TestNodes.addScripted(simulation, recorder) { input, now in
            if case .start = input { return [.setTimer(TimerID(1), at: now + .seconds(5))] }
            return []
        }
        simulation.start(1)
        simulation.scheduleStart(0, at: .seconds(1))
        // The datagram is in flight from 1 s to 1.1 s; n1 crashes at 1.05 s and is back at 1.06 s.
        simulation.schedule(at: .seconds(1.05)) { $0.crash(1) }
        simulation.schedule(at: .seconds(1.06)) { $0.restart(1) }
        simulation.run(until: .seconds(10))
        #expect(recorder.datagrams(to: "n1").isEmpty)
        #expect(simulation.statistics.datagramsToDownNodes == 1)
        // Only the second life's timer fired (at 1.06 + 5 s), not the first life's (at 5 s).
        #expect(recorder.timers(of: "n1").map(\.0) == [Instant(nanoseconds: 6_060_000_000)])
        #expect(recorder.starts.filter { $0.node == "n1" }.count == 2)
        #expect(simulation.statistics.staleEvents >= 1)
    }

    @Test func aDatagramSentToADownNodeIsLost() {
        let simulation = Simulation(configuration: SimulationConfiguration(seed: 1))
        let recorder = Recorder()
        TestNodes.addScripted(simulation, recorder) { input, _ in
            if case .start = input { return [.sendDatagram([1], to: TestNodes.address(1))] }
            return []
        }
        TestNodes.addScripted(simulation, recorder)
        simulation.start(0)
        simulation.scheduleStart(1, at: .seconds(0.001))
        simulation.run(until: .seconds(1))
        #expect(recorder.datagrams(to: "n1").isEmpty)
        #expect(simulation.statistics.datagramsToDownNodes == 1)
    }

    @Test func aRestartGetsThePersistedStateOnlyIfTheStoreSurvived() {
        let simulation = Simulation(configuration: SimulationConfiguration(seed: 1))
        let recorder = Recorder()
        var life = 0
        TestNodes.addScripted(simulation, recorder) { input, _ in
            guard case .start = input else { return [] }
            life += 1
            return [.persist(PersistedState(incarnation: UInt64(life), knownPeers: [TestNodes.address(5)]))]
        }
        simulation.start(0)
        simulation.schedule(at: .seconds(1)) { $0.crash(0, storeSurvives: true) }
        simulation.schedule(at: .seconds(2)) { $0.restart(0) }
        simulation.schedule(at: .seconds(3)) { $0.crash(0, storeSurvives: false) }
        simulation.schedule(at: .seconds(4)) { $0.restart(0) }
        simulation.run(until: .seconds(5))
        #expect(recorder.starts.count == 3)
        #expect(recorder.starts[0].persisted == nil)
        #expect(recorder.starts[1].persisted == PersistedState(incarnation: 1, knownPeers: [TestNodes.address(5)]))
        #expect(recorder.starts[2].persisted == nil)
        #expect(simulation.persistedState(of: 0)?.incarnation == 3)
    }

    @Test func aGracefulLeaveStopsTheNodeWhenItSaysLeft() {
        let simulation = Simulation(configuration: SimulationConfiguration(seed: 1))
        let recorder = Recorder()
        TestNodes.addScripted(simulation, recorder) { input, now in
            switch input {
            case .start: return [.setTimer(TimerID(1), at: now + .seconds(10))]
            case .leave: return [.log(.info, "bye"), .left, .sendDatagram([1], to: TestNodes.address(0))]
            default: return []
            }
        }
        simulation.start(0)
        simulation.schedule(at: .seconds(1)) { $0.leave(0) }
        simulation.run(until: .seconds(20))
        #expect(simulation.status(of: 0) == .left)
        #expect(recorder.timers(of: "n0").isEmpty)
        #expect(simulation.statistics.datagramsSent == 0)
        #expect(simulation.recentLogs.isEmpty)  // info is below the default warning level
    }

    @Test func heartbeatNodesDetectACrashAndSeeTheRestart() {
        var configuration = SimulationConfiguration(seed: 11, network: NetworkModel(baseDelay: .milliseconds(2)))
        configuration.sampleInterval = .milliseconds(100)
        let simulation = Simulation(configuration: configuration)
        let nodes = TestNodes.addHeartbeats(simulation, count: 12)
        let detection = DetectionTracker(bound: .seconds(12))
        simulation.addObserver(detection)
        simulation.schedule(at: .seconds(10)) { $0.crash(nodes[5], storeSurvives: false) }
        simulation.run(until: .seconds(25))
        simulation.finish()
        #expect(detection.delays.count == 11)
        #expect(detection.delays.allSatisfy { $0 > 4 && $0 < 12 })
        #expect(detection.violations.isEmpty)
        simulation.restart(nodes[5])
        simulation.run(until: .seconds(30))
        let view = simulation.members(of: nodes[0])
        #expect(view.first { $0.name == "node-5" }?.state == .alive)
    }
}
