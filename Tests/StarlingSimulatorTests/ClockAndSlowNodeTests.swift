import StarlingMembership
import StarlingPeer
import Testing
@testable import StarlingSimulator

@Suite struct ClockAndSlowNodeTests {
    @Test func aNodeSeesItsOwnClockAndItsTimersFireAtTheRightGlobalTime() {
        let simulation = Simulation(configuration: SimulationConfiguration(seed: 1))
        let recorder = Recorder()
        let clock = NodeClock(offset: .seconds(5), driftPPM: 1_000)  // 0.1% fast, 5 s ahead
        TestNodes.addScripted(simulation, recorder, clock: clock) { input, now in
            // At start, ask for a timer 10 local seconds later.
            guard case .start = input else { return [] }
            return [.setTimer(TimerID(7), at: now + .seconds(10))]
        }
        simulation.scheduleStart(0, at: .seconds(2))
        var firedAtGlobal: Instant?
        simulation.run(until: .seconds(30))
        let inputs = recorder.inputs(of: "n0")
        #expect(inputs.count == 2)
        let startLocal = inputs[0].localTime, firedLocal = inputs[1].localTime
        // Local time at global 2 s: 5 s + 2 s + 2 ms.
        #expect(startLocal == Instant(nanoseconds: 7_002_000_000))
        #expect(firedLocal >= startLocal + .seconds(10))
        #expect(firedLocal - (startLocal + .seconds(10)) < .nanoseconds(2))
        // 10 local seconds are 10 / 1.001 global seconds.
        firedAtGlobal = Instant(nanoseconds: clock.global(forLocal: firedLocal.nanoseconds))
        let globalWait = (firedAtGlobal! - .seconds(2)).seconds
        #expect(abs(globalWait - 10 / 1.001) < 1e-6)
    }

    @Test func globalForLocalIsTheEarliestInstantReachingIt() {
        var random = SeedStreams(seed: 5).generator(.clock, 0)
        for _ in 0..<2_000 {
            let clock = NodeClock(offset: .nanoseconds(Int64(DeterministicMath.below(20_000_000_000, &random)) - 10_000_000_000),
                                  driftPPM: DeterministicMath.uniform(-50_000, 50_000, &random))
            let local = Int64(DeterministicMath.below(1_000_000_000_000, &random))
            let global = clock.global(forLocal: local)
            #expect(clock.local(global) >= local)
            #expect(clock.local(global - 1) < local)
        }
    }

    @Test func aSlowNodeGetsEveryInputLate() {
        let simulation = Simulation(configuration: SimulationConfiguration(seed: 1, network: NetworkModel(baseDelay: .milliseconds(10))))
        let recorder = Recorder()
        // n0 pings n1 and n2 every second; n1 is slow; both set a timer 100 ms after start.
        TestNodes.addScripted(simulation, recorder) { input, now in
            switch input {
            case .start, .timerFired:
                return [.sendDatagram([1], to: TestNodes.address(1)), .sendDatagram([1], to: TestNodes.address(2)),
                        .setTimer(TimerID(1), at: now + .seconds(1))]
            default: return []
            }
        }
        for _ in 0..<2 {
            TestNodes.addScripted(simulation, recorder) { input, now in
                if case .start = input { return [.setTimer(TimerID(9), at: now + .milliseconds(100))] }
                return []
            }
        }
        simulation.start(1)
        simulation.start(2)
        simulation.setSlow(1, extraDelay: .milliseconds(300))
        simulation.scheduleStart(0, at: .seconds(1))
        simulation.schedule(at: .seconds(2.5)) { $0.setSlow(1, extraDelay: .zero) }
        simulation.run(until: .seconds(4.5))
        let slow = recorder.datagrams(to: "n1").map(\.0.seconds), normal = recorder.datagrams(to: "n2").map(\.0.seconds)
        #expect(normal.map { ($0 * 1000).rounded() } == [1010, 2010, 3010, 4010])
        // Late by 300 ms while slow, on time after it recovered at 2.5 s.
        #expect(slow.map { ($0 * 1000).rounded() } == [1310, 2310, 3010, 4010])
        // Its start and its timer were late too.
        #expect(recorder.inputs(of: "n1").first.map { $0.localTime } == Instant(nanoseconds: 300_000_000))
        #expect(recorder.timers(of: "n1").first?.0 == Instant(nanoseconds: 700_000_000))
        #expect(recorder.timers(of: "n2").first?.0 == Instant(nanoseconds: 100_000_000))
        #expect(simulation.isConnected(1))
    }
}
