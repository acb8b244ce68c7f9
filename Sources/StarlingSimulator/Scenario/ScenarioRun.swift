import StarlingCrypto
import StarlingMembership
import StarlingPeer
import StarlingTasks
import StarlingTrust

/// How to run a scenario: the seed, the machines, and where progress and logs go.
public struct ScenarioRunOptions {
    public var seed: UInt64
    /// Makes each honest node's machine (the CLI passes `Peer.init(setup:)`).
    public var makeMachine: (PeerSetup) -> any PeerMachine
    public var attackers = AttackerRegistry()
    /// The command that reproduces this run, printed with a failure.
    public var reproduce: String
    /// Called every `progressEvery` of simulated time.
    public var progressEvery: Duration = .seconds(10)
    public var progress: ((ScenarioProgress) -> Void)?
    public var logLevel: LogLevel? = .warning
    public var logHandler: ((LogRecord) -> Void)?
    /// Hands a revocation to the running cluster. Default (nil): as an operator does (docs/cli.md),
    /// restart one live peer, whose new setup carries the revocation, and let it gossip it.
    public var deliverRevocation: ((Revocation, Simulation) -> Void)?

    public init(seed: UInt64, reproduce: String, makeMachine: @escaping (PeerSetup) -> any PeerMachine) {
        self.seed = seed
        self.reproduce = reproduce
        self.makeMachine = makeMachine
    }
}

public struct ScenarioProgress: Sendable {
    public var time: Instant
    public var duration: Duration
    public var events: UInt64
    public var liveNodes: Int
    public var wallSeconds: Double
    public var violations: Int

    public var line: String {
        "t=\(formatDecimal(time.seconds, places: 1))s/\(formatDecimal(duration.seconds, places: 1))s "
            + "live \(liveNodes) events \(events) wall \(formatDecimal(wallSeconds, places: 1))s"
            + (violations > 0 ? " VIOLATIONS \(violations)" : "")
    }
}

/// One run of a scenario: builds the cluster, schedules faults and events, attaches the checkers,
/// runs, and reports.
public final class ScenarioRun {
    public let scenario: Scenario
    public let options: ScenarioRunOptions
    public let simulation: Simulation
    public let cluster: Cluster
    /// The fault settings in force, as text for the report.
    public private(set) var settings: [String] = []

    let legitimate = LegitimateMembersCheck()
    let falseDeaths: FalseDeathCheck
    let revocations: RevocationCheck
    let convergence: ConvergenceCheck
    let detection: DetectionTracker
    let spread: SpreadTracker
    let traffic: TrafficMeter
    /// Present when the scenario submits tasks.
    let tasks: TaskTracker?
    private var nextJoin: Int

    /// Builds the run (nothing happens until `run()`). Throws a `ScenarioError` for what the
    /// scenario asks and the options cannot give (an unregistered attacker machine, revocations).
    public init(_ scenario: Scenario, options: ScenarioRunOptions, file: String = "") throws {
        self.scenario = scenario
        self.options = options
        let streams = SeedStreams(seed: options.seed)
        var network = scenario.network
        var faults: ExplicitFaults
        switch scenario.faults {
        case .none: faults = ExplicitFaults()
        case let .explicit(explicit): faults = explicit
        case .random:
            var random = streams.generator(.faults, 0)
            (network, faults) = RandomFaults.draw(for: scenario, using: &random)
        }
        var events = scenario.events
        if case .random = scenario.faults {
            for (index, crash) in faults.crashes.enumerated() {
                events.append(ScenarioEvent(at: crash.at, action: .crash(crash.nodes, storeSurvives: crash.storeSurvives,
                                                                         restartAfter: crash.restartAfter),
                                            source: "faults.crashes[\(index)] (random)"))
            }
            events = ScenarioParser.stableSorted(events)
        }
        if scenario.attackers > 0 && options.attackers.factory(named: scenario.attackerMachine) == nil {
            let known = options.attackers.names
            throw ScenarioError(file: file, line: nil, path: "attackers",
                                message: "the scenario needs an attacker machine named '\(scenario.attackerMachine)', but none is registered"
                                    + (known.isEmpty ? "" : " (registered: \(known.joined(separator: ", ")))"))
        }

        var configuration = SimulationConfiguration(seed: options.seed, network: network)
        configuration.sampleInterval = scenario.checks.sampleEvery
        configuration.logLevel = options.logLevel
        configuration.logHandler = options.logHandler
        simulation = Simulation(configuration: configuration)

        var clusterConfiguration = ClusterConfiguration()
        clusterConfiguration.settings = scenario.membership
        clusterConfiguration.packetAuthentication = scenario.packetAuthentication
        clusterConfiguration.warmStart = scenario.warmStart
        clusterConfiguration.warmStartNodes = scenario.nodes
        clusterConfiguration.roles = scenario.roles
        let tags = scenario.tags
        clusterConfiguration.tags = { k in
            // An empty value leaves the tag off that node (a dataset only some nodes hold).
            Dictionary(uniqueKeysWithValues: tags.map { ($0.key, $0.values[k % $0.values.count]) }.filter { !$0.1.isEmpty })
        }
        cluster = Cluster(simulation: simulation, configuration: clusterConfiguration, makeMachine: options.makeMachine)

        // Checkers and measurements.
        let healAt = Instant(nanoseconds: scenario.healAt.nanoseconds)
        let settingsUsed = scenario.membership
        let total = Double(max(1, scenario.totalNodes))
        let log10N = max(1, DeterministicMath.log(total) / DeterministicMath.log(10))
        let grace = scenario.checks.falsePositiveGrace
            ?? settingsUsed.probeInterval.scaled(by: settingsUsed.suspicionMultiplier * log10N * settingsUsed.suspicionMaximumFactor + 2)
        let lossy = network.loss > 0 || !faults.slowNodes.isEmpty
            || events.contains { if case let .loss(p) = $0.action { return p > 0 } else { return false } }
            || events.contains { if case let .slow(_, extra) = $0.action { return extra > .zero } else { return false } }
        let strict: Bool
        switch scenario.checks.falsePositives {
        case .auto: strict = !lossy
        case .fail: strict = true
        case .measure: strict = false
        }
        falseDeaths = FalseDeathCheck(grace: grace, strict: strict)
        revocations = RevocationCheck(bound: scenario.checks.revocationSpread)
        convergence = ConvergenceCheck(healAt: healAt, bound: scenario.checks.convergence)
        detection = DetectionTracker(bound: scenario.checks.detection)
        spread = SpreadTracker(joinsFrom: Instant(nanoseconds: scenario.checks.joinsFrom.nanoseconds))
        traffic = TrafficMeter(from: Instant(nanoseconds: (scenario.checks.steadyStateFrom ?? scenario.healAt).nanoseconds))
        let submits = events.contains { if case .submit = $0.action { return true } else { return false } }
        tasks = submits ? TaskTracker(healAt: healAt, bound: scenario.checks.convergence) : nil
        nextJoin = scenario.nodes
        for observer: any SimulationObserver in [legitimate, falseDeaths, revocations, convergence, detection, spread, traffic] {
            simulation.addObserver(observer)
        }
        if let tasks { simulation.addObserver(tasks) }

        settings = describe(network, faults, healAt: scenario.healAt, strict: strict)
        buildNodes(faults, streams)
        schedule(events, faults, streams)
    }

    // MARK: Building

    private func buildNodes(_ faults: ExplicitFaults, _ streams: SeedStreams) {
        let drift = faults.clockDrift
        let clock = { (k: Int) -> NodeClock in
            guard let drift else { return .exact }
            var random = streams.generator(.clock, k)
            let ppm = DeterministicMath.uniform(-drift.ppm, drift.ppm, &random)
            let offset = DeterministicMath.uniform(-drift.offset.seconds, drift.offset.seconds, &random)
            return NodeClock(offset: .nanoseconds(Int64(offset * 1e9)), driftPPM: ppm)
        }
        cluster.addNodes(scenario.nodes, stagger: scenario.stagger, clock: clock)
        for _ in scenario.nodes..<scenario.totalNodes { cluster.addNode(clock: clock(cluster.honest.count)) }
        if scenario.attackers > 0, let factory = options.attackers.factory(named: scenario.attackerMachine) {
            let start = Instant(nanoseconds: (scenario.attackerStart ?? scenario.stagger).nanoseconds)
            for _ in 0..<scenario.attackers {
                cluster.addAttacker(certified: scenario.attackerCertified, startAt: start, factory: factory)
            }
        }
    }

    private func schedule(_ events: [ScenarioEvent], _ faults: ExplicitFaults, _ streams: SeedStreams) {
        let healAt = Instant(nanoseconds: scenario.healAt.nanoseconds)
        for (index, slow) in faults.slowNodes.enumerated() {
            var random = streams.generator(.faults, UInt64(1_000 + index))
            let end = slow.to.map { Instant(nanoseconds: $0.nanoseconds) } ?? healAt
            simulation.schedule(at: Instant(nanoseconds: slow.from.nanoseconds)) { [unowned self] simulation in
                let nodes = self.resolve(slow.nodes, &random) { simulation.hasStarted($0) || simulation.status(of: $0) == .starting }
                for node in nodes { simulation.setSlow(node, extraDelay: slow.extraDelay) }
                simulation.schedule(at: end) { simulation in
                    for node in nodes { simulation.setSlow(node, extraDelay: .zero) }
                }
            }
        }
        for (index, partition) in faults.partitions.enumerated() {
            var random = streams.generator(.faults, UInt64(2_000 + index))
            let end = partition.to.map { Instant(nanoseconds: $0.nanoseconds) } ?? healAt
            simulation.schedule(at: Instant(nanoseconds: partition.from.nanoseconds)) { [unowned self] simulation in
                self.partition(partition.name, partition.sideA, partition.sideB, partition.oneWay, &random)
                simulation.schedule(at: end) { $0.removePartition(named: partition.name) }
            }
        }
        for (index, event) in events.enumerated() {
            var random = streams.generator(.faults, UInt64(10_000 + index))
            simulation.schedule(at: Instant(nanoseconds: event.at.nanoseconds)) { [unowned self] _ in
                self.perform(event.action, &random)
            }
        }
        simulation.schedule(at: healAt) { $0.heal() }
    }

    /// Simulation indices of the selected nodes that `eligible` admits; random choices come from
    /// `random` (one stream per event, so events do not shift each other's draws).
    func resolve(_ selection: NodeSelection, _ random: inout DeterministicRandom, eligible: (Int) -> Bool) -> [Int] {
        switch selection {
        case .all:
            return cluster.honest.filter(eligible)
        case let .nodes(references):
            return references.compactMap { reference -> Int? in
                switch reference {
                case let .honest(k): return k < cluster.honest.count ? cluster.honest[k] : nil
                case let .attacker(k): return k < cluster.attackers.count ? cluster.attackers[k] : nil
                }
            }.filter(eligible)
        case let .random(count):
            let candidates = cluster.honest.filter(eligible)
            return DeterministicMath.sample(count, of: candidates.count, &random).map { candidates[$0] }
        }
    }

    private func partition(_ name: String, _ sideA: NodeSelection, _ sideB: NodeSelection?, _ oneWay: Bool,
                           _ random: inout DeterministicRandom) {
        let started = { [simulation] (node: Int) in simulation.hasStarted(node) }
        let a = Set(resolve(sideA, &random) { _ in true }.filter { started($0) || sideA != .random(0) })
        var b: Set<Int> = []
        if let sideB { b = Set(resolve(sideB, &random) { !a.contains($0) }) }
        simulation.addPartition(Partition(name: name, sideA: a, sideB: b, oneWay: oneWay))
    }

    private func perform(_ action: ScenarioAction, _ random: inout DeterministicRandom) {
        let simulation = self.simulation
        switch action {
        case let .crash(selection, storeSurvives, restartAfter):
            let nodes = resolve(selection, &random) { simulation.isUp($0) }
            for node in nodes { simulation.crash(node, storeSurvives: storeSurvives) }
            if let restartAfter {
                simulation.schedule(at: simulation.now + restartAfter) { simulation in
                    for node in nodes { simulation.restart(node) }
                }
            }
        case let .submit(submission):
            submit(submission, &random)
        case let .crashCoordinator(task, storeSurvives, restartAfter):
            crashCoordinator(of: task, storeSurvives: storeSurvives, restartAfter: restartAfter)
        case let .restart(selection):
            for node in resolve(selection, &random, eligible: {
                simulation.status(of: $0) == .crashed || simulation.status(of: $0) == .left
            }) { simulation.restart(node) }
        case let .partition(name, sideA, sideB, oneWay):
            partition(name, sideA, sideB, oneWay, &random)
        case let .heal(name):
            if let name { simulation.removePartition(named: name) } else { simulation.removeAllPartitions() }
        case let .join(count):
            for _ in 0..<count where nextJoin < cluster.honest.count {
                simulation.start(cluster.honest[nextJoin])
                nextJoin += 1
            }
        case let .leave(selection):
            for node in resolve(selection, &random, eligible: { simulation.isUp($0) }) { simulation.leave(node) }
        case let .slow(selection, extraDelay):
            for node in resolve(selection, &random, eligible: { _ in true }) { simulation.setSlow(node, extraDelay: extraDelay) }
        case let .loss(probability):
            simulation.network.loss = probability
        case let .revoke(selection):
            let revoked = resolve(selection, &random, eligible: { simulation.identity(of: $0) != nil })
            for node in revoked { cluster.revoke(node, deliver: options.deliverRevocation) }
            if options.deliverRevocation == nil, !revoked.isEmpty {
                // Restart one live honest peer that was not revoked: it starts with the revocations.
                let carriers = resolve(.random(1), &random) { simulation.isUp($0) && !revoked.contains($0) }
                for carrier in carriers {
                    simulation.crash(carrier, storeSurvives: true)
                    simulation.restart(carrier)
                }
            }
        }
    }

    /// An operator submits the spec to the chosen node (or a random live honest one).
    private func submit(_ submission: TaskSubmission, _ random: inout DeterministicRandom) {
        guard let tasks else { return }
        let node: Int
        if let target = submission.to {
            node = resolve(.nodes([target]), &random) { _ in true }[0]
        } else {
            guard let chosen = resolve(.random(1), &random, eligible: { simulation.isUp($0) }).first else {
                tasks.eventFailed("submit \(submission.file): no live honest node to submit to", at: simulation.now)
                return
            }
            node = chosen
        }
        guard let answer = simulation.control(node, .submitTask(specBytes: submission.specBytes)) else {
            tasks.eventFailed("submit \(submission.file) to \(simulation.name(of: node)): the node is not up", at: simulation.now)
            return
        }
        guard answer.ok, let text = answer.fields["id"], let id = try? TaskID(text: text) else {
            tasks.eventFailed("submit \(submission.file) to \(simulation.name(of: node)) refused: \(answer.message)", at: simulation.now)
            return
        }
        tasks.submitted(id, name: submission.name, to: node, at: simulation.now, in: simulation)
        if !submission.failingWorkers.isEmpty { simulation.failWorkers(submission.failingWorkers, ofTask: submission.name) }
    }

    /// Crashes the node the live peers see holding the task's lease.
    private func crashCoordinator(of name: String, storeSurvives: Bool, restartAfter: Duration?) {
        guard let tasks else { return }
        guard let id = tasks.task(named: name), let holder = tasks.coordinator(of: id, in: simulation) else {
            tasks.eventFailed("crash_coordinator \(name): no live node holds a valid lease of the task", at: simulation.now)
            return
        }
        tasks.crashingCoordinator(holder.node)
        simulation.crash(holder.node, storeSurvives: storeSurvives)
        if let restartAfter {
            simulation.schedule(at: simulation.now + restartAfter) { $0.restart(holder.node) }
        }
    }

    private func describe(_ network: NetworkModel, _ faults: ExplicitFaults, healAt: Duration, strict: Bool) -> [String] {
        var lines = [
            "delay \(formatDuration(network.baseDelayMin))..\(formatDuration(network.baseDelayMax)) + jitter \(network.jitter)",
            "loss \(formatDecimal(network.loss * 100, places: 2))%, duplication \(formatDecimal(network.duplication * 100, places: 2))%",
        ]
        if let drift = faults.clockDrift {
            lines.append("clock drift ±\(formatDecimal(drift.ppm, places: 1)) ppm, offsets ±\(formatDuration(drift.offset))")
        }
        for slow in faults.slowNodes {
            lines.append("slow \(slow.nodes) +\(formatDuration(slow.extraDelay)) from \(formatDuration(slow.from))"
                + " to \(formatDuration(slow.to ?? healAt))")
        }
        for partition in faults.partitions {
            lines.append("partition \(partition.name) \(partition.sideA) | \(partition.sideB.map(\.description) ?? "rest")"
                + "\(partition.oneWay ? " one-way" : "") from \(formatDuration(partition.from)) to \(formatDuration(partition.to ?? healAt))")
        }
        for crash in faults.crashes {
            lines.append("crash \(crash.nodes) at \(formatDuration(crash.at)) store \(crash.storeSurvives ? "survives" : "lost")"
                + (crash.restartAfter.map { ", restart after \(formatDuration($0))" } ?? ""))
        }
        lines.append("heal at \(formatDuration(healAt)); false positives \(strict ? "fail the run" : "are measured")")
        return lines
    }
}
