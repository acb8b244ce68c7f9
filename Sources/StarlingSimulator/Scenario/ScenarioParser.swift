import StarlingMembership
import StarlingPeer
import StarlingTrust
import Yams

/// Reads a scenario file (format: docs/simulation.md). Every error names the file, line and field.
public enum ScenarioParser {
    static let topKeys = [
        "name", "seed", "duration", "nodes", "stagger", "tags", "roles", "attackers", "attacker_machine",
        "attacker_certified", "attacker_start", "membership", "packet_authentication", "warm_start", "network", "faults",
        "events", "checks",
    ]

    /// `directory`: where `submit` events' spec files are read from (relative paths); default: the
    /// folder of `file`.
    public static func parse(yaml text: String, file: String, directory: String? = nil) throws -> Scenario {
        let root: Node
        do {
            guard let parsed = try Yams.compose(yaml: text) else {
                throw ScenarioError(file: file, line: nil, path: "", message: "the file is empty")
            }
            root = parsed
        } catch let error as ScenarioError {
            throw error
        } catch let error as YamlError {
            throw ScenarioError(file: file, line: nil, path: "", message: "not valid YAML: \(firstLine(of: "\(error)"))")
        }
        let top = try YAMLField(node: root, path: "", file: file).mapping(known: topKeys)
        func required(_ key: String) throws -> YAMLField {
            guard let field = top[key] else {
                throw ScenarioError(file: file, line: root.mark?.line, path: key, message: "required field is missing")
            }
            return field
        }

        let name = try top["name"]?.string() ?? baseName(file)
        var scenario = Scenario(name: name, duration: try required("duration").duration(max: .seconds(30 * 86_400)),
                                nodes: try required("nodes").int(in: 1...100_000))
        guard scenario.duration > .zero else { throw try required("duration").error("must be longer than 0") }
        scenario.seed = try top["seed"]?.uint64()
        scenario.stagger = try top["stagger"]?.duration() ?? .zero
        if let tags = top["tags"] { scenario.tags = try parseTags(tags) }
        if let roles = top["roles"] { scenario.roles = try parseRoles(roles) }
        scenario.attackers = try top["attackers"]?.int(in: 0...1_000) ?? 0
        scenario.attackerMachine = try top["attacker_machine"]?.string() ?? "forger"
        scenario.attackerCertified = try top["attacker_certified"]?.bool() ?? true
        scenario.attackerStart = try top["attacker_start"]?.duration()
        if let membership = top["membership"] { scenario.membership = try parseMembership(membership) }
        if let warm = top["warm_start"] { scenario.warmStart = try warm.bool() }
        if let authentication = top["packet_authentication"] {
            switch try authentication.string() {
            case "simulated": scenario.packetAuthentication = .simulatedNetwork
            case "pairwise": scenario.packetAuthentication = .pairwiseMAC
            default: throw authentication.error("expected simulated or pairwise, got \(authentication.kind)")
            }
        }
        if let network = top["network"] { scenario.network = try parseNetwork(network) }
        if let checks = top["checks"] { scenario.checks = try parseChecks(checks) }

        // Joins first: node references are checked against every node the run will have.
        let joins = (try? top["events"]?.sequence())?.reduce(0) { total, item in
            guard let fields = try? item.mapping(known: EventParser.keys), let join = fields["join"],
                  let count = try? join.int(in: 1...100_000) else { return total }
            return total + count
        } ?? 0
        let context = SelectionContext(honest: scenario.nodes + joins, attackers: scenario.attackers)
        if let faults = top["faults"] { scenario.faults = try parseFaults(faults, context) }
        if let events = top["events"] {
            let folder = directory ?? folderName(file)
            scenario.events = try events.sequence().map { try EventParser.parse($0, context, directory: folder) }
        }
        if case let .explicit(faults) = scenario.faults {
            for (index, crash) in faults.crashes.enumerated() {
                scenario.events.append(ScenarioEvent(
                    at: crash.at, action: .crash(crash.nodes, storeSurvives: crash.storeSurvives, restartAfter: crash.restartAfter),
                    source: "faults.crashes[\(index)]"))
            }
        }
        scenario.events = stableSorted(scenario.events)
        try validate(scenario, top, file: file)
        return scenario
    }

    static func stableSorted(_ events: [ScenarioEvent]) -> [ScenarioEvent] {
        events.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
    }

    private static func firstLine(of text: String) -> String {
        String(text.split(separator: "\n", omittingEmptySubsequences: true).first ?? Substring(text))
    }

    /// The folder part of a path ("" when there is none: the working directory).
    static func folderName(_ file: String) -> String {
        guard let slash = file.lastIndex(of: "/") else { return "" }
        return slash == file.startIndex ? "/" : String(file[..<slash])
    }

    private static func parseRoles(_ field: YAMLField) throws -> Roles {
        let names = field.isSequence ? try field.sequence().map { try $0.string() } : [try field.string()]
        let roles: Roles
        do { roles = try Roles(text: names.joined(separator: ",")) } catch {
            throw field.error("expected roles among peer, coordinator, submit, admin (\(error))")
        }
        guard roles.contains(.peer) else { throw field.error("every node needs the peer role") }
        return roles
    }

    private static func baseName(_ file: String) -> String {
        var name = file.split(separator: "/").last.map(String.init) ?? file
        for suffix in [".yaml", ".yml"] where name.hasSuffix(suffix) { name.removeLast(suffix.count) }
        return name
    }

    private static func parseTags(_ field: YAMLField) throws -> [(key: String, values: [String])] {
        guard case let .mapping(mapping) = field.node else { throw field.error("expected a mapping of tag names to values") }
        return try mapping.map { key, value in
            let name = try YAMLField(node: key, path: field.path, file: field.file).string()
            let child = field.child(name, value)
            let values = child.isSequence ? try child.sequence().map { try $0.string() } : [try child.string()]
            guard !values.isEmpty else { throw child.error("needs at least one value") }
            return (name, values)
        }
    }

    // MARK: Sections

    static var durationSettings: [(String, WritableKeyPath<MembershipSettings, Duration>)] { [
        ("probe_interval", \.probeInterval), ("probe_timeout", \.probeTimeout), ("gossip_interval", \.gossipInterval),
        ("reap_after", \.reapAfter), ("anti_entropy_interval", \.antiEntropyInterval),
        ("request_timeout", \.requestTimeout), ("bootstrap_retry_interval", \.bootstrapRetryInterval),
    ] }
    static var integerSettings: [(String, WritableKeyPath<MembershipSettings, Int>)] { [
        ("indirect_probe_count", \.indirectProbeCount), ("gossip_fanout", \.gossipFanout),
        ("retransmit_multiplier", \.retransmitMultiplier), ("local_health_max", \.localHealthMax),
        ("anti_entropy_concurrency_max", \.antiEntropyConcurrencyMax), ("anti_entropy_scale_from", \.antiEntropyScaleFrom),
        ("membership_gossip_bytes", \.membershipGossipBytes),
        ("datagram_bytes_max", \.datagramBytesMax), ("members_max", \.membersMax),
        ("broadcast_queue_max", \.broadcastQueueMax), ("pending_probes_max", \.pendingProbesMax),
        ("tags_max", \.tagsMax), ("tag_bytes_max", \.tagBytesMax),
    ] }
    static var realSettings: [(String, WritableKeyPath<MembershipSettings, Double>)] { [
        ("suspicion_multiplier", \.suspicionMultiplier), ("suspicion_maximum_factor", \.suspicionMaximumFactor),
    ] }

    static var booleanSettings: [(String, WritableKeyPath<MembershipSettings, Bool>)] { [
        ("stream_probe_fallback", \.streamProbeFallback),
    ] }

    static func parseMembership(_ field: YAMLField) throws -> MembershipSettings {
        let known = durationSettings.map(\.0) + integerSettings.map(\.0) + realSettings.map(\.0) + booleanSettings.map(\.0)
        let fields = try field.mapping(known: known)
        var settings = MembershipSettings()
        for (key, path) in durationSettings { if let value = fields[key] { settings[keyPath: path] = try value.duration() } }
        for (key, path) in integerSettings { if let value = fields[key] { settings[keyPath: path] = try value.int(in: 0...10_000_000) } }
        for (key, path) in realSettings { if let value = fields[key] { settings[keyPath: path] = try value.double(in: 0...1_000) } }
        for (key, path) in booleanSettings { if let value = fields[key] { settings[keyPath: path] = try value.bool() } }
        for (key, path) in durationSettings where settings[keyPath: path] <= .zero {
            throw (fields[key] ?? field).error("\(key) must be longer than 0")
        }
        return settings
    }

    static func parseNetwork(_ field: YAMLField) throws -> NetworkModel {
        let fields = try field.mapping(known: ["delay", "loss", "duplication"])
        var network = NetworkModel()
        if let delay = fields["delay"] {
            let parts = try delay.mapping(known: ["base", "jitter", "max"])
            if let base = parts["base"] {
                if base.isMapping {
                    let range = try base.mapping(known: ["min", "max"])
                    guard let low = range["min"], let high = range["max"] else { throw base.error("needs both min and max") }
                    network.baseDelayMin = try low.duration()
                    network.baseDelayMax = try high.duration()
                } else if let text = try? base.string(), text.contains("..") {
                    guard let ends = text.rangeEnds, let low = DurationText.parse(ends.low),
                          let high = DurationText.parse(ends.high) else {
                        throw base.error("expected a range such as 1ms..5ms, got '\(text)'")
                    }
                    network.baseDelayMin = low
                    network.baseDelayMax = high
                } else {
                    network.baseDelayMin = try base.duration()
                    network.baseDelayMax = network.baseDelayMin
                }
                guard network.baseDelayMin <= network.baseDelayMax else { throw base.error("min must not exceed max") }
            }
            if let jitter = parts["jitter"] { network.jitter = try parseJitter(jitter) }
            if let maximum = parts["max"] { network.delayMax = try maximum.duration() }
        }
        if let loss = fields["loss"] { network.loss = try loss.probability() }
        if let duplication = fields["duplication"] { network.duplication = try duplication.probability() }
        return network
    }

    static func parseJitter(_ field: YAMLField) throws -> JitterDistribution {
        if field.isScalar {
            guard try field.string() == "none" else {
                throw field.error("expected none, or one of {exponential: MEAN}, {uniform: MAX}, {lognormal: {median: M, sigma: S}}")
            }
            return .none
        }
        let fields = try field.mapping(known: ["exponential", "uniform", "lognormal"])
        guard fields.count == 1, let (kind, value) = fields.first else { throw field.error("give exactly one distribution") }
        switch kind {
        case "exponential": return .exponential(mean: try value.duration())
        case "uniform": return .uniform(max: try value.duration())
        default:
            let shape = try value.mapping(known: ["median", "sigma"])
            guard let median = shape["median"], let sigma = shape["sigma"] else { throw value.error("needs median and sigma") }
            return .lognormal(median: try median.duration(), sigma: try sigma.double(in: 0...5))
        }
    }

    static func parseChecks(_ field: YAMLField) throws -> CheckSettings {
        let fields = try field.mapping(known: [
            "heal_at", "convergence", "detection", "revocation_spread", "false_positives", "false_positive_grace",
            "sample_every", "steady_state_from", "joins_from",
        ])
        var checks = CheckSettings()
        checks.healAt = try fields["heal_at"]?.duration()
        if let value = fields["convergence"] { checks.convergence = try value.duration() }
        checks.detection = try fields["detection"]?.duration()
        if let value = fields["revocation_spread"] { checks.revocationSpread = try value.duration() }
        if let value = fields["false_positives"] {
            guard let policy = FalsePositivePolicy(rawValue: try value.string()) else {
                throw value.error("expected auto, fail or measure, got \(value.kind)")
            }
            checks.falsePositives = policy
        }
        checks.falsePositiveGrace = try fields["false_positive_grace"]?.duration()
        if let value = fields["sample_every"] {
            checks.sampleEvery = try value.duration()
            guard checks.sampleEvery >= .milliseconds(1) else { throw value.error("must be at least 1ms") }
        }
        checks.steadyStateFrom = try fields["steady_state_from"]?.duration()
        if let value = fields["joins_from"] { checks.joinsFrom = try value.duration() }
        return checks
    }

    static func parseFaults(_ field: YAMLField, _ context: SelectionContext) throws -> FaultPlan {
        if field.isScalar {
            switch try field.string() {
            case "none": return .none
            case "random": return .random
            default: throw field.error("expected none, random, or a mapping of faults, got \(field.kind)")
            }
        }
        let fields = try field.mapping(known: ["clock_drift", "slow_nodes", "partitions", "crashes"])
        var faults = ExplicitFaults()
        if let drift = fields["clock_drift"] {
            let parts = try drift.mapping(known: ["ppm", "offset"])
            faults.clockDrift = ClockDrift(ppm: try parts["ppm"]?.double(in: 0...100_000) ?? 0,
                                           offset: try parts["offset"]?.duration() ?? .zero)
        }
        if let slow = fields["slow_nodes"] {
            faults.slowNodes = try slow.sequence().map { item in
                let parts = try item.mapping(known: ["nodes", "extra_delay", "from", "to"])
                guard let nodes = parts["nodes"] else { throw item.error("needs nodes (a count or a list)") }
                guard let extra = parts["extra_delay"] else { throw item.error("needs extra_delay") }
                return SlowNodes(nodes: try context.selection(nodes), extraDelay: try extra.duration(),
                                 from: try parts["from"]?.duration() ?? .zero, to: try parts["to"]?.duration())
            }
        }
        if let partitions = fields["partitions"] {
            faults.partitions = try partitions.sequence().enumerated().map { index, item in
                let parts = try item.mapping(known: ["name", "a", "b", "oneway", "from", "to"])
                guard let sideA = parts["a"] else { throw item.error("needs side a (a count or a list of nodes)") }
                let from = try parts["from"]?.duration() ?? .zero
                let to = try parts["to"]?.duration()
                if let to, to <= from { throw parts["to"]!.error("must be after from") }
                return TimedPartition(
                    name: try parts["name"]?.string() ?? "partition-\(index)", sideA: try context.selection(sideA),
                    sideB: try parts["b"].flatMap { try $0.string() == "rest" ? nil : context.selection($0) },
                    oneWay: try parts["oneway"]?.bool() ?? false, from: from, to: to)
            }
        }
        if let crashes = fields["crashes"] {
            faults.crashes = try crashes.sequence().map { item in
                let parts = try item.mapping(known: ["at", "nodes", "store", "restart_after"])
                guard let at = parts["at"] else { throw item.error("needs at") }
                guard let nodes = parts["nodes"] else { throw item.error("needs nodes (a count or a list)") }
                return TimedCrash(at: try at.duration(), nodes: try context.selection(nodes),
                                  storeSurvives: try parts["store"].map(EventParser.store) ?? true,
                                  restartAfter: try parts["restart_after"]?.duration())
            }
        }
        return .explicit(faults)
    }

    // MARK: Validation

    static func validate(_ scenario: Scenario, _ top: [String: YAMLField], file: String) throws {
        func error(_ key: String, _ message: String) -> ScenarioError {
            ScenarioError(file: file, line: top[key]?.line, path: key, message: message)
        }
        let healAt = scenario.healAt
        let end = scenario.duration
        if let checks = top["checks"], scenario.checks.healAt.map({ $0 > end }) ?? false {
            throw ScenarioError(file: file, line: checks.line, path: "checks.heal_at",
                                message: "\(formatDuration(healAt)) is after the end of the run (\(formatDuration(end)))")
        }
        if healAt + scenario.checks.convergence > end {
            throw ScenarioError(
                file: file, line: top["checks"]?.line ?? top["duration"]?.line, path: "checks.convergence",
                message: "the liveness phase starts at \(formatDuration(healAt)) and needs \(formatDuration(scenario.checks.convergence)), "
                    + "but the run ends at \(formatDuration(end)) (raise duration or lower checks.heal_at)")
        }
        if scenario.stagger > healAt { throw error("stagger", "initial starts must end before the liveness phase (\(formatDuration(healAt)))") }
        for event in scenario.events {
            if case .heal = event.action { continue }
            var last = event.at
            if case let .crash(_, _, restartAfter?) = event.action { last = event.at + restartAfter }
            if case let .crashCoordinator(_, _, restartAfter?) = event.action { last = event.at + restartAfter }
            guard last <= healAt else {
                throw ScenarioError(
                    file: file, line: nil, path: event.source,
                    message: "\(event.action.name) at \(formatDuration(last)) is after the liveness phase starts "
                        + "(\(formatDuration(healAt))): faults and node events must come before it (raise duration or set checks.heal_at)")
            }
        }
        try validateTasks(scenario, top, file: file)
        if case let .explicit(faults) = scenario.faults {
            for (index, partition) in faults.partitions.enumerated() where partition.from > healAt {
                throw ScenarioError(file: file, line: nil, path: "faults.partitions[\(index)].from",
                                    message: "starts after the liveness phase (\(formatDuration(healAt)))")
            }
            for (index, slow) in faults.slowNodes.enumerated() where slow.from > healAt {
                throw ScenarioError(file: file, line: nil, path: "faults.slow_nodes[\(index)].from",
                                    message: "starts after the liveness phase (\(formatDuration(healAt)))")
            }
        }
    }
}

extension ScenarioParser {
    /// Submissions need the submit role and distinct task names; `crash_coordinator` names a task
    /// submitted by an earlier event.
    static func validateTasks(_ scenario: Scenario, _ top: [String: YAMLField], file: String) throws {
        var submitted: [String: String] = [:]
        for event in scenario.events {
            switch event.action {
            case let .submit(submission):
                guard scenario.roles.contains(.submit) else {
                    throw ScenarioError(file: file, line: top["roles"]?.line, path: event.source,
                                        message: "submitting a task needs the submit role: add it to roles "
                                            + "(roles: [peer, coordinator, submit])")
                }
                if let earlier = submitted[submission.name] {
                    throw ScenarioError(file: file, line: nil, path: event.source,
                                        message: "a task named \(submission.name) is already submitted by \(earlier): "
                                            + "give each submitted task its own metadata.name")
                }
                submitted[submission.name] = event.source
            case let .crashCoordinator(task, _, _):
                guard submitted[task] != nil else {
                    let known = submitted.keys.sorted()
                    throw ScenarioError(file: file, line: nil, path: event.source,
                                        message: "no task named \(task) is submitted before this event"
                                            + (known.isEmpty ? "" : " (submitted: \(known.joined(separator: ", ")))"))
                }
            default:
                break
            }
        }
    }
}

/// Node selections: `3` (three random nodes), `all`, `node-4`, `[0, node-2, 5..9, attacker-0]`.
struct SelectionContext {
    let honest: Int
    let attackers: Int

    func selection(_ field: YAMLField) throws -> NodeSelection {
        if field.isSequence {
            var chosen: [NodeReference] = []
            for item in try field.sequence() {
                for reference in try references(in: item) where !chosen.contains(reference) { chosen.append(reference) }
            }
            guard !chosen.isEmpty else { throw field.error("the list is empty") }
            return .nodes(chosen)
        }
        let text = try field.string()
        if text == "all" { return .all }
        if let count = Int(text) {
            guard count >= 1 else { throw field.error("a count of nodes must be at least 1") }
            return .random(count)
        }
        return .nodes(try references(in: field))
    }

    private func references(in field: YAMLField) throws -> [NodeReference] {
        let text = try field.string()
        if let index = Int(text) { return [try honestNode(index, field)] }
        if text.contains("..") {
            guard let ends = text.rangeEnds, let low = ordinal(ends.low), let high = ordinal(ends.high), low <= high else {
                throw field.error("expected a range such as 0..9 or node-0..node-9, got '\(text)'")
            }
            return try (low...high).map { try honestNode($0, field) }
        }
        if text.hasPrefix("attacker-"), let k = Int(text.dropFirst("attacker-".count)) {
            guard k >= 0 && k < attackers else {
                throw field.error("\(text) does not exist (the scenario has \(attackers) attacker\(attackers == 1 ? "" : "s"))")
            }
            return [.attacker(k)]
        }
        guard let k = ordinal(text) else {
            throw field.error("expected a node (node-4 or 4), a range (0..9), all, or a count, got '\(text)'")
        }
        return [try honestNode(k, field)]
    }

    private func ordinal(_ text: String) -> Int? {
        let trimmed = text.trimmingSpaces
        if let value = Int(trimmed) { return value }
        if trimmed.hasPrefix("node-") { return Int(trimmed.dropFirst(5)) }
        return nil
    }

    private func honestNode(_ k: Int, _ field: YAMLField) throws -> NodeReference {
        guard k >= 0 && k < honest else {
            throw field.error("node-\(k) does not exist (the run has node-0 to node-\(honest - 1), counting joins)")
        }
        return .honest(k)
    }
}
