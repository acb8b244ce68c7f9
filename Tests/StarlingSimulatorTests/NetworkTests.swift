import StarlingMembership
import StarlingPeer
import Testing
@testable import StarlingSimulator

@Suite struct NetworkTests {
    /// Node 0 sends `count` datagrams to node 1, one per millisecond, numbered.
    static func blast(_ network: NetworkModel, count: Int, seed: UInt64 = 1) -> (Recorder, Simulation) {
        let simulation = Simulation(configuration: SimulationConfiguration(seed: seed, network: network))
        let recorder = Recorder()
        TestNodes.addScripted(simulation, recorder) { input, now in
            guard case .start = input else { return [] }
            return []
        }
        TestNodes.addScripted(simulation, recorder)
        simulation.start(0)
        simulation.start(1)
        for i in 0..<count {
            simulation.schedule(at: .seconds(1 + Double(i) / 1000)) { simulation in
                simulation.state.sendDatagram([UInt8(i & 0xff), UInt8(i >> 8 & 0xff), UInt8(i >> 16 & 0xff)],
                                              from: 0, to: TestNodes.address(1))
            }
        }
        simulation.run(until: .seconds(Double(count) / 1000 + 30))
        return (recorder, simulation)
    }

    static func number(_ bytes: [UInt8]) -> Int { Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 }

    @Test func lossMatchesTheConfiguredRate() {
        var network = NetworkModel(baseDelay: .milliseconds(5))
        network.loss = 0.1
        let (recorder, simulation) = Self.blast(network, count: 20_000)
        let received = recorder.datagrams(to: "n1").count
        let lost = 1 - Double(received) / 20_000
        #expect(abs(lost - 0.1) < 0.01, "lost \(lost)")
        #expect(simulation.statistics.datagramsLost == UInt64(20_000 - received))
    }

    @Test func duplicationMatchesTheConfiguredRate() {
        var network = NetworkModel(baseDelay: .milliseconds(5))
        network.duplication = 0.05
        let (recorder, _) = Self.blast(network, count: 20_000)
        let extra = Double(recorder.datagrams(to: "n1").count - 20_000) / 20_000
        #expect(abs(extra - 0.05) < 0.008, "duplicated \(extra)")
    }

    @Test func jitterReordersAndAveragesItsMean() {
        let network = NetworkModel(baseDelay: .milliseconds(10), jitter: .exponential(mean: .milliseconds(20)))
        let (recorder, _) = Self.blast(network, count: 5_000)
        let arrivals = recorder.datagrams(to: "n1")
        #expect(arrivals.count == 5_000)
        var delays = 0.0, inversions = 0, last = -1
        for (time, bytes, _) in arrivals {
            let i = Self.number(bytes)
            delays += time.seconds - (1 + Double(i) / 1000)
            if i < last { inversions += 1 }
            last = max(last, i)
        }
        let mean = delays / 5_000
        #expect(abs(mean - 0.030) < 0.002, "mean delay \(mean)")
        #expect(inversions > 100)
    }

    @Test func withoutJitterALinkIsFIFOAndEveryLinkHasAFixedSymmetricBase() {
        var network = NetworkModel()
        network.baseDelayMin = .milliseconds(1)
        network.baseDelayMax = .milliseconds(50)
        let (recorder, _) = Self.blast(network, count: 500)
        let numbers = recorder.datagrams(to: "n1").map { Self.number($0.1) }
        #expect(numbers == Array(0..<500))
        let timing = network.timing
        for a in 0..<20 {
            for b in 0..<20 {
                let base = timing.baseDelay(a, b, linkKey: 42)
                #expect(base == timing.baseDelay(b, a, linkKey: 42))
                #expect(base >= 1_000_000 && base <= 50_000_000)
            }
        }
        #expect(Set((0..<20).map { timing.baseDelay(0, $0, linkKey: 42) }).count > 10)
    }

    @Test func partitionsCanBeOneWay() {
        let simulation = Simulation(configuration: SimulationConfiguration(seed: 3))
        let recorder = Recorder()
        for _ in 0..<3 { TestNodes.addScripted(simulation, recorder) }
        for node in 0..<3 { simulation.start(node) }
        func exchange(at time: Double) {
            simulation.schedule(at: .seconds(time)) { simulation in
                for from in 0..<3 {
                    for to in 0..<3 where to != from {
                        simulation.state.sendDatagram([UInt8(from), UInt8(time)], from: from, to: TestNodes.address(to))
                    }
                }
            }
        }
        simulation.addPartition(Partition(name: "cut", sideA: [0], sideB: [1], oneWay: true))
        exchange(at: 1)
        simulation.schedule(at: .seconds(2)) { $0.addPartition(Partition(name: "cut", sideA: [0], sideB: [], oneWay: false)) }
        exchange(at: 3)
        simulation.schedule(at: .seconds(4)) { $0.removePartition(named: "cut") }
        exchange(at: 5)
        simulation.run(until: .seconds(6))
        func heard(_ node: String, at time: Double) -> Set<UInt8> {
            Set(recorder.datagrams(to: node).filter { $0.1[1] == UInt8(time) }.map { $0.1[0] })
        }
        // One way: 0 cannot reach 1, but 1 reaches 0 and 2 is untouched.
        #expect(heard("n1", at: 1) == [2])
        #expect(heard("n0", at: 1) == [1, 2])
        #expect(heard("n2", at: 1) == [0, 1])
        // Both ways, B = everyone else: 0 is isolated.
        #expect(heard("n0", at: 3).isEmpty)
        #expect(heard("n1", at: 3) == [2])
        // Healed.
        #expect(heard("n0", at: 5) == [1, 2])
        #expect(simulation.statistics.datagramsPartitioned == 1 + 4)
    }

    @Test func oversizedAndUnroutableDatagramsAreDroppedAndOversizedOnesReported() {
        let simulation = Simulation(configuration: SimulationConfiguration(seed: 3))
        let recorder = Recorder()
        TestNodes.addScripted(simulation, recorder) { input, _ in
            guard case .start = input else { return [] }
            return [.sendDatagram([UInt8](repeating: 1, count: 1_201), to: TestNodes.address(1)),
                    .sendDatagram([1], to: PeerAddress(host: "192.0.2.1", port: 1))]
        }
        TestNodes.addScripted(simulation, recorder)
        simulation.start(1)
        simulation.start(0)
        simulation.run(until: .seconds(1))
        #expect(recorder.datagrams(to: "n1").isEmpty)
        #expect(simulation.statistics.datagramsOversized == 1)
        #expect(simulation.statistics.datagramsUnroutable == 1)
        #expect(simulation.contractViolations.count == 1)
        #expect(simulation.contractViolations.first?.message.contains("1201-byte datagram") == true)
    }

    @Test func deterministicMathIsAccurate() {
        for x in [1e-300, 1e-9, 0.001, 0.5, 1, 2, 2.718281828459045, 10, 12345.678, 1e300] {
            let expected = x == 1 ? 0 : Double(x).logApproximation
            #expect(abs(DeterministicMath.log(x) - expected) <= 1e-12 * max(1, abs(expected)), "log \(x)")
        }
        for x in [-700.0, -20, -1, -1e-9, 0, 0.5, 1, 10, 700] {
            let value = DeterministicMath.exp(x)
            #expect(abs(DeterministicMath.log(value) - x) <= 1e-12 * max(1, abs(x)), "exp \(x)")
        }
        #expect(abs(DeterministicMath.exp(1) - 2.718281828459045) < 1e-15)
    }
}

extension Double {
    /// ln x from the identity log(x) = log2(x) ln 2, via the exponent and a high-order series,
    /// independent of DeterministicMath's algorithm.
    var logApproximation: Double {
        // atanh series around sqrt(2)-normalised mantissa, 60 terms.
        var exponent = Double(Int(self.exponent)), mantissa = significand
        if mantissa > 1.5 { mantissa /= 2; exponent += 1 }
        let s = (mantissa - 1) / (mantissa + 1)
        var sum = 0.0, term = s
        for k in stride(from: 1.0, through: 119, by: 2) { sum += term / k; term *= s * s }
        return 2 * sum + exponent * 0.6931471805599453
    }
}
