import StarlingMembership
import StarlingPeer
import Testing
@testable import StarlingSimulator

@Suite struct ExchangeTests {
    /// n0 sends one request to `target` at 1 s; n1 answers (or not) per `reply`; n2 never answers.
    static func exchange(to target: PeerAddress, bytes: Int = 3, timeout: Duration = .seconds(2),
                         setup: (Simulation) -> Void = { _ in },
                         reply: @escaping (ReplyID, [UInt8]) -> [PeerEffect] = { [.sendReply($0, $1.reversed())] })
        -> (Recorder, Simulation) {
        let simulation = Simulation(configuration: SimulationConfiguration(seed: 1, network: NetworkModel(baseDelay: .milliseconds(10))))
        let recorder = Recorder()
        TestNodes.addScripted(simulation, recorder) { input, _ in
            guard case .start = input else { return [] }
            return [.sendRequest(ExchangeID(77), [UInt8](repeating: 9, count: bytes - 1) + [1], to: target, timeout: timeout)]
        }
        TestNodes.addScripted(simulation, recorder) { input, _ in
            if case let .requestReceived(id, bytes, _) = input { return reply(id, bytes) }
            return []
        }
        TestNodes.addScripted(simulation, recorder)
        simulation.start(1)
        simulation.start(2)
        setup(simulation)
        simulation.scheduleStart(0, at: .seconds(1))
        simulation.run(until: .seconds(10))
        return (recorder, simulation)
    }

    @Test func aRequestGetsItsReply() throws {
        let (recorder, simulation) = Self.exchange(to: TestNodes.address(1))
        let responses = recorder.responses(of: "n0")
        #expect(responses.count == 1)
        #expect(responses.first?.1 == ExchangeID(77))
        #expect(try responses.first?.2.get() == [1, 9, 9])
        // Connect (a round trip), the request, the reply: four one-way delays.
        #expect(responses.first?.0 == Instant(nanoseconds: 1_040_000_000))
        #expect(simulation.pendingExchanges(of: 0) == 0)
        #expect(simulation.traffic(of: 0).streamBytes == 3 && simulation.traffic(of: 1).streamBytes == 3)
    }

    @Test func anUnansweredRequestTimesOut() {
        let (recorder, _) = Self.exchange(to: TestNodes.address(2), timeout: .milliseconds(1_500))
        let responses = recorder.responses(of: "n0")
        #expect(responses.count == 1)
        #expect(responses.first?.0 == Instant(nanoseconds: 2_500_000_000))
        #expect(responses.first.map { if case .failure(.timedOut) = $0.2 { true } else { false } } == true)
    }

    @Test func aDownNodeRefusesAndAnUnknownAddressIsUnreachable() {
        for (target, expected) in [(TestNodes.address(1), "refused"), (PeerAddress(host: "192.0.2.9", port: 1), "no route")] {
            let (recorder, _) = Self.exchange(to: target, setup: { $0.crash(1) })
            let responses = recorder.responses(of: "n0")
            #expect(responses.count == 1)
            guard case let .failure(.unreachable(reason)) = responses.first?.2 else {
                Issue.record("expected unreachable, got \(String(describing: responses.first?.2))")
                continue
            }
            #expect(reason.contains(expected))
            #expect(responses.first!.0 < Instant.seconds(1.1))
        }
    }

    @Test func aPartitionInEitherDirectionTimesTheRequestOut() {
        for oneWayFromServer in [false, true] {
            let (recorder, _) = Self.exchange(to: TestNodes.address(1), setup: { simulation in
                let side: Set<Int> = oneWayFromServer ? [1] : [0]
                simulation.addPartition(Partition(name: "cut", sideA: side, sideB: oneWayFromServer ? [0] : [1], oneWay: true))
            })
            let responses = recorder.responses(of: "n0")
            #expect(responses.count == 1)
            #expect(responses.first.map { if case .failure(.timedOut) = $0.2 { true } else { false } } == true)
            #expect(recorder.inputs(of: "n1").allSatisfy { if case .requestReceived = $0.input { false } else { true } })
        }
    }

    @Test func aServerCrashResetsTheConnection() {
        let (recorder, _) = Self.exchange(to: TestNodes.address(1), setup: { simulation in
            simulation.schedule(at: .seconds(1.035)) { $0.crash(1) }
        }, reply: { _, _ in [] })
        let responses = recorder.responses(of: "n0")
        #expect(responses.count == 1)
        #expect(responses.first.map { if case .failure(.closed) = $0.2 { true } else { false } } == true)
    }

    @Test func aRequestOverTheFrameLimitFailsAndADoubleReplyIsAContractViolation() {
        let (recorder, _) = Self.exchange(to: TestNodes.address(1), bytes: 4 * 1024 * 1024 + 1)
        #expect(recorder.responses(of: "n0").first.map { if case .failure(.tooLarge) = $0.2 { true } else { false } } == true)

        let (twice, simulation) = Self.exchange(to: TestNodes.address(1), reply: { id, _ in [.sendReply(id, [1]), .sendReply(id, [2])] })
        #expect(twice.responses(of: "n0").count == 1)
        #expect(simulation.contractViolations.count == 1)
    }

    @Test func aRequesterCrashDropsItsExchanges() {
        let (recorder, simulation) = Self.exchange(to: TestNodes.address(2), setup: { simulation in
            simulation.schedule(at: .seconds(1.5)) { $0.crash(0) }
            simulation.schedule(at: .seconds(1.6)) { $0.restart(0) }
        })
        // The second life sent its own request (id 77 again) and got exactly one timeout for it.
        let responses = recorder.responses(of: "n0")
        #expect(responses.count == 1)
        #expect(responses.first?.0 == Instant(nanoseconds: 3_600_000_000))
        #expect(simulation.contractViolations.isEmpty)
    }
}
