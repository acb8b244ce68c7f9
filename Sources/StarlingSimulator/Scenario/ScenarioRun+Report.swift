import StarlingMembership
import StarlingPeer

extension ScenarioRun {
    /// Runs the scenario to its end and reports.
    public func run() -> SimulationReport {
        let clock = ContinuousClock()
        let began = clock.now
        let end = Instant(nanoseconds: scenario.duration.nanoseconds)
        let step = max(options.progressEvery.nanoseconds, 1)
        while simulation.now < end {
            let next = Instant(nanoseconds: min(end.nanoseconds, simulation.now.nanoseconds + step))
            simulation.run(until: next)
            if let progress = options.progress {
                progress(ScenarioProgress(
                    time: simulation.now, duration: scenario.duration, events: simulation.statistics.events,
                    liveNodes: (0..<simulation.nodeCount).filter { simulation.isUp($0) && simulation.kind(of: $0) == .honest }.count,
                    wallSeconds: (clock.now - began).seconds, violations: violations.count))
            }
        }
        simulation.sampleNow()
        simulation.finish()
        return report(wallSeconds: (clock.now - began).seconds)
    }

    var checks: [any Check] { [legitimate, falseDeaths, revocations, convergence, detection] + (tasks.map { [$0] } ?? []) }

    /// Every violation so far: the checkers', then the driver-contract ones.
    public var violations: [Violation] {
        checks.flatMap(\.violations) + simulation.contractViolations.map {
            Violation(time: $0.time, check: "driver-contract", message: "\(simulation.name(of: $0.node)) \($0.message)")
        }
    }

    func report(wallSeconds: Double) -> SimulationReport {
        let statistics = simulation.statistics
        let violations = self.violations.sorted { $0.time < $1.time }
        var counters: [String: UInt64] = [:]
        var live = 0
        for node in 0..<simulation.nodeCount where simulation.isUp(node) && simulation.kind(of: node) == .honest {
            live += 1
            for (name, value) in simulation.counters(of: node) { counters[name, default: 0] &+= value }
        }
        let gossip = scenario.membership.gossipInterval.seconds
        var report = SimulationReport(
            scenario: scenario.name, seed: options.seed, reproduce: options.reproduce, passed: violations.isEmpty,
            violations: violations, honestNodes: cluster.honest.count, attackers: cluster.attackers.count,
            liveNodesAtEnd: live, simulatedSeconds: simulation.now.seconds, wallSeconds: wallSeconds,
            events: statistics.events, inputs: statistics.inputs,
            eventsPerWallSecond: wallSeconds > 0 ? Double(statistics.events) / wallSeconds : 0,
            traceHash: simulation.traceHashHex, settings: settings, gossipIntervalSeconds: gossip,
            joins: summary(of: .join), crashes: summary(of: .crash),
            detection: DetectionSummary(
                samples: detection.delays.count, p50Seconds: percentile(detection.delays.sorted(), 0.5),
                p99Seconds: percentile(detection.delays.sorted(), 0.99), maxSeconds: detection.delays.max(),
                undetected: detection.undetected, boundSeconds: detection.bound?.seconds),
            falsePositives: FalsePositiveSummary(
                deadMarks: falseDeaths.deadMarks, suspectEvents: falseDeaths.suspectEvents,
                majorityEpisodes: falseDeaths.majorityEpisodes, failing: falseDeaths.strict, graceSeconds: falseDeaths.grace.seconds),
            convergence: ConvergenceSummary(
                healAt: convergence.healAt.seconds, boundSeconds: convergence.bound.seconds,
                convergedAt: convergence.convergedAt?.seconds, seconds: convergence.convergenceTime?.seconds),
            traffic: TrafficSummary(steadyStateFrom: traffic.from.seconds, bytesPerNodePerSecond: traffic.bytesPerNodePerSecond,
                                    totalHonestBytes: statistics.honestBytesSent),
            network: NetworkSummary(
                datagramsSent: statistics.datagramsSent, datagramsDelivered: statistics.datagramsDelivered,
                lost: statistics.datagramsLost, duplicated: statistics.datagramsDuplicated,
                partitioned: statistics.datagramsPartitioned, toDownNodes: statistics.datagramsToDownNodes,
                unroutable: statistics.datagramsUnroutable, oversized: statistics.datagramsOversized,
                requests: statistics.requestsSent, responses: statistics.responsesDelivered,
                exchangeFailures: statistics.exchangeFailures, exchangeTimeouts: statistics.exchangeTimeouts,
                streamRetransmissions: statistics.streamRetransmissions),
            counters: counters, contractViolations: simulation.contractViolations.count)
        if let tasks {
            report.tasks = tasks.rows
            report.taskConvergence = ConvergenceSummary(
                healAt: tasks.healAt.seconds, boundSeconds: tasks.bound.seconds, convergedAt: tasks.convergedAt?.seconds,
                seconds: tasks.convergenceTime?.seconds)
        }
        return report
    }

    private func summary(of kind: SpreadTracker.Kind) -> SpreadSummary {
        let spreads = spread.spreads.filter { $0.kind == kind }
        let fractions = SpreadTracker.fractions
        var medians: [Double?] = [], worst: [Double?] = []
        for f in fractions.indices {
            let times = spreads.compactMap { spread in spread.reached[f].map { ($0 - spread.at).seconds } }.sorted()
            medians.append(percentile(times, 0.5))
            worst.append(times.last)
        }
        return SpreadSummary(
            fractions: fractions, count: spreads.count, completed: spreads.filter(\.complete).count,
            abandoned: spreads.filter(\.abandoned).count, medianSeconds: medians, worstSeconds: worst,
            rows: spreads.map { spread in
                SpreadRow(kind: kind.rawValue, node: spread.name, at: spread.at.seconds,
                          seconds: spread.reached.map { $0.map { ($0 - spread.at).seconds } }, abandoned: spread.abandoned)
            })
    }
}
