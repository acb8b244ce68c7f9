import StarlingCrypto

/// `faults: random`: fault settings drawn from the seed (swarm testing). Each kind of fault is on
/// or off by a coin flip, and its strength is drawn within the ranges below, so different seeds
/// explore different combinations. Every fault ends by the liveness phase (`healAt`).
///
/// | fault | chance | range |
/// |---|---|---|
/// | loss | 1/2 | 0-15% |
/// | duplication | 3/10 | 0-5% |
/// | base delay | always | min 0.2-10 ms, max = min + 0-20 ms |
/// | jitter | always | none, exponential (mean 0.1-20 ms) or log-normal (median 0.5-10 ms, sigma 0.2-1.2), a third each |
/// | clock drift | 1/2 | ±0-500 ppm, offsets ±0-10 s |
/// | slow nodes | 3/10 | 1 to max(1, N/20) nodes, +20-500 ms per input, for 5 s to half the time before the heal |
/// | partitions | 0, 1 or 2 | side A: 1 to N/2 random nodes (one-way 3/10), from 10-70% of the time before the heal, 2-30 s |
/// | crashes | 0 to max(1, N/10) | at 10-80% of the time before the heal, store lost 1/2, restarted 1/2 after 5-30 s |
public enum RandomFaults {
    public static func draw(for scenario: Scenario, using random: inout DeterministicRandom) -> (NetworkModel, ExplicitFaults) {
        let heal = scenario.healAt.seconds
        let n = scenario.nodes
        func uniform(_ low: Double, _ high: Double) -> Double { DeterministicMath.uniform(low, high, &random) }
        func chance(_ p: Double) -> Bool { DeterministicMath.chance(p, &random) }
        func count(_ low: Int, _ high: Int) -> Int { low + DeterministicMath.below(max(1, high - low + 1), &random) }
        func seconds(_ value: Double) -> Duration { .nanoseconds(Int64(value * 1e9)) }

        var network = scenario.network
        network.loss = chance(0.5) ? uniform(0, 0.15) : 0
        network.duplication = chance(0.3) ? uniform(0, 0.05) : 0
        let base = uniform(0.2e-3, 10e-3)
        network.baseDelayMin = seconds(base)
        network.baseDelayMax = seconds(base + uniform(0, 20e-3))
        switch DeterministicMath.below(3, &random) {
        case 0: network.jitter = .none
        case 1: network.jitter = .exponential(mean: seconds(uniform(0.1e-3, 20e-3)))
        default: network.jitter = .lognormal(median: seconds(uniform(0.5e-3, 10e-3)), sigma: uniform(0.2, 1.2))
        }

        var faults = ExplicitFaults()
        if chance(0.5) { faults.clockDrift = ClockDrift(ppm: uniform(0, 500), offset: seconds(uniform(0, 10))) }
        if chance(0.3), heal > 10 {
            let from = uniform(0, heal / 2)
            let to = min(heal, from + uniform(5, max(5, heal / 2)))
            faults.slowNodes.append(SlowNodes(nodes: .random(count(1, max(1, n / 20))), extraDelay: seconds(uniform(0.02, 0.5)),
                                              from: seconds(from), to: seconds(to)))
        }
        for index in 0..<count(0, 2) where heal > 10 {
            let from = uniform(0.1 * heal, 0.7 * heal)
            let to = min(heal, from + uniform(2, 30))
            faults.partitions.append(TimedPartition(
                name: "random-\(index)", sideA: .random(count(1, max(1, n / 2))), sideB: nil, oneWay: chance(0.3),
                from: seconds(from), to: seconds(to)))
        }
        for _ in 0..<count(0, max(1, n / 10)) where heal > 10 {
            let at = uniform(0.1 * heal, 0.8 * heal)
            let storeSurvives = !chance(0.5)
            var restartAfter: Duration?
            if chance(0.5) {
                let after = uniform(5, 30)
                if at + after <= heal { restartAfter = seconds(after) }
            }
            faults.crashes.append(TimedCrash(at: seconds(at), nodes: .random(1), storeSurvives: storeSurvives, restartAfter: restartAfter))
        }
        return (network, faults)
    }
}
