import StarlingMembership
import StarlingPeer

/// Measures the engine alone: `nodes` `PingMachine`s, each pinging one of 8 random neighbours
/// every second over a jittery, slightly lossy network, for `seconds` of simulated time.
///
/// Run it in a release build: `starling simulate --engine-benchmark [--nodes N] [--seconds S]`
/// (hidden flag), or the disabled test `EngineBenchmarkTests`.
public enum EngineBenchmark {
    public struct Result: Sendable {
        public var nodes: Int
        public var simulatedSeconds: Double
        public var wallSeconds: Double
        public var events: UInt64
        public var inputs: UInt64
        public var traceHash: String
        public var eventsPerSecond: Double { wallSeconds > 0 ? Double(events) / wallSeconds : 0 }

        public var summary: String {
            "engine benchmark: \(nodes) nodes × \(formatDecimal(simulatedSeconds, places: 1)) simulated s: "
                + "\(events) events (\(inputs) inputs) in \(formatDecimal(wallSeconds, places: 3)) wall s = "
                + "\(formatDecimal(eventsPerSecond / 1e6, places: 3)) M events/s, trace \(traceHash)"
        }
    }

    public static func run(nodes: Int = 10_000, seconds: Double = 60, seed: UInt64 = 1) -> Result {
        var network = NetworkModel(baseDelay: .milliseconds(1), jitter: .exponential(mean: .milliseconds(3)), loss: 0.01)
        network.baseDelayMax = .milliseconds(20)
        var configuration = SimulationConfiguration(seed: seed, network: network)
        configuration.logLevel = nil
        let simulation = Simulation(configuration: configuration)
        let address = { (i: Int) in PeerAddress(host: "10.\(i / 62_500).\(i / 250 % 250).\(i % 250 + 1)", port: 7946) }
        for index in 0..<nodes {
            var random = simulation.streams.generator(.bootstrap, index)
            let neighbors = (0..<8).map { _ in address(DeterministicMath.below(nodes, &random)) }
            let node = simulation.addNode(NodeSpec(name: "node-\(index)", address: address(index), makeMachine: { _ in
                PingMachine(neighbors: neighbors)
            }))
            simulation.start(node)
        }
        let clock = ContinuousClock()
        let began = clock.now
        simulation.run(until: Instant(nanoseconds: Int64(seconds * 1e9)))
        let elapsed = clock.now - began
        return Result(nodes: nodes, simulatedSeconds: seconds, wallSeconds: elapsed.seconds,
                      events: simulation.statistics.events, inputs: simulation.statistics.inputs,
                      traceHash: simulation.traceHashHex)
    }
}
