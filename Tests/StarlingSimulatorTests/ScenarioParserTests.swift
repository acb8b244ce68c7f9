import Foundation
import StarlingMembership
import Testing
@testable import StarlingSimulator

@Suite struct ScenarioParserTests {
    static let complete = """
        name: everything
        seed: 1234
        duration: 5m
        nodes: 50
        stagger: 10s
        tags: {zone: [a, b, c], tier: edge}
        attackers: 1
        attacker_machine: forger
        attacker_certified: false
        membership:
          probe_interval: 500ms
          gossip_fanout: 4
          suspicion_multiplier: 2.5
        packet_authentication: pairwise
        network:
          delay: {base: 1ms..5ms, jitter: {lognormal: {median: 2ms, sigma: 0.5}}, max: 2s}
          loss: 2%
          duplication: 0.001
        faults:
          clock_drift: {ppm: 100, offset: 3s}
          slow_nodes:
            - {nodes: [node-3], extra_delay: 200ms, from: 20s, to: 40s}
          partitions:
            - {name: split, a: 0..9, b: rest, oneway: true, from: 30s, to: 60s}
          crashes:
            - {at: 100s, nodes: 2, store: lost, restart_after: 20s}
        events:
          - at: 90s
            join: 5
          - at: 70s
            crash: [node-4, 7]
            store: survives
          - at: 80s
            restart: all
          - at: 85s
            partition: {a: [attacker-0], oneway: false}
          - at: 86s
            heal: all
          - at: 87s
            leave: node-54
          - at: 88s
            slow: 3
            extra_delay: 0
          - at: 89s
            loss: 0
        checks:
          heal_at: 200s
          convergence: 60s
          detection: 15s
          false_positives: measure
          sample_every: 100ms
          steady_state_from: 150s
        """

    @Test func aCompleteScenarioParses() throws {
        let scenario = try ScenarioParser.parse(yaml: Self.complete, file: "everything.yaml")
        #expect(scenario.name == "everything")
        #expect(scenario.seed == 1234)
        #expect(scenario.duration == .seconds(300))
        #expect(scenario.nodes == 50 && scenario.totalNodes == 55)
        #expect(scenario.tags.first { $0.key == "zone" }?.values == ["a", "b", "c"])
        #expect(scenario.attackers == 1 && !scenario.attackerCertified)
        #expect(scenario.membership.probeInterval == .milliseconds(500))
        #expect(scenario.membership.gossipFanout == 4 && scenario.membership.suspicionMultiplier == 2.5)
        #expect(scenario.network.baseDelayMin == .milliseconds(1) && scenario.network.baseDelayMax == .milliseconds(5))
        #expect(scenario.network.jitter == .lognormal(median: .milliseconds(2), sigma: 0.5))
        #expect(scenario.network.loss == 0.02 && scenario.network.duplication == 0.001)
        guard case let .explicit(faults) = scenario.faults else {
            Issue.record("faults")
            return
        }
        #expect(faults.clockDrift == ClockDrift(ppm: 100, offset: .seconds(3)))
        #expect(faults.partitions.first?.sideA == .nodes((0...9).map { .honest($0) }))
        #expect(faults.partitions.first?.sideB == nil && faults.partitions.first?.oneWay == true)
        // Events come sorted by time; the crash from `faults.crashes` is among them.
        #expect(scenario.events.map(\.at.seconds) == [70, 80, 85, 86, 87, 88, 89, 90, 100])
        #expect(scenario.events.first?.action == .crash(.nodes([.honest(4), .honest(7)]), storeSurvives: true, restartAfter: nil))
        #expect(scenario.events.last?.action == .crash(.random(2), storeSurvives: false, restartAfter: .seconds(20)))
        #expect(scenario.events[2].action == .partition(name: "events[3]", sideA: .nodes([.attacker(0)]), sideB: nil, oneWay: false))
        #expect(scenario.checks.healAt == .seconds(200) && scenario.checks.detection == .seconds(15))
        #expect(scenario.checks.falsePositives == .measure)
    }

    /// The error for `yaml`, or a test failure.
    static func error(_ yaml: String) -> ScenarioError? {
        do {
            _ = try ScenarioParser.parse(yaml: yaml, file: "bad.yaml")
            Issue.record("expected an error for:\n\(yaml)")
            return nil
        } catch let error as ScenarioError {
            return error
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    @Test(arguments: [
        ("duration: 60s\nnodes: 3\nnetwork:\n  lossy: 1%", "network.lossy", "unknown field"),
        ("duration: 60\nnodes: 3", "duration", "expected a duration"),
        ("nodes: 3", "duration", "required field is missing"),
        ("duration: 60s\nnodes: many", "nodes", "expected a whole number"),
        ("duration: 60s\nnodes: 3\nnetwork:\n  loss: 150%", "network.loss", "not between 0 and 1"),
        ("duration: 60s\nnodes: 3\nnetwork:\n  delay: {jitter: {gaussian: 1ms}}", "network.delay.jitter.gaussian", "unknown field"),
        ("duration: 60s\nnodes: 3\nevents:\n  - at: 5s\n    crash: [node-3]", "events[0].crash[0]", "node-3 does not exist"),
        ("duration: 60s\nnodes: 3\nevents:\n  - at: 5s\n    join: 2\n  - at: 6s\n    crash: [node-5]", "events[1].crash[0]", "node-5 does not exist"),
        ("duration: 60s\nnodes: 3\nevents:\n  - at: 5s\n    restart: all\n    store: lost", "events[0].store", "applies to crash and crash_coordinator events only"),
        ("duration: 60s\nnodes: 3\nevents:\n  - at: 5s\n    crash: 1\n    leave: 1", "events[0]", "several actions"),
        ("duration: 60s\nnodes: 3\nevents:\n  - crash: 1", "events[0]", "needs at"),
        ("duration: 60s\nnodes: 3\nevents:\n  - at: 50s\n    crash: 1", "events[0]", "after the liveness phase"),
        ("duration: 60s\nnodes: 3\nfaults:\n  partitions:\n    - {a: [0], from: 20s, to: 10s}", "faults.partitions[0].to", "must be after from"),
        ("duration: 60s\nnodes: 3\nfaults: sometimes", "faults", "expected none, random"),
        ("duration: 60s\nnodes: 3\nchecks:\n  convergence: 90s", "checks.convergence", "the run ends at"),
        ("duration: 60s\nnodes: 3\nchecks:\n  false_positives: maybe", "checks.false_positives", "expected auto, fail or measure"),
        ("duration: 60s\nnodes: 3\nmembership:\n  probe_interval: fast", "membership.probe_interval", "expected a duration"),
        ("duration: 60s\nnodes: 3\nmembership:\n  probe_intervall: 1s", "membership.probe_intervall", "unknown field"),
        ("duration: 60s\nnodes: 3\nevents:\n  - at: 5s\n    partition: {a: [attacker-0]}", "events[0].partition.a[0]", "attacker-0 does not exist"),
        ("duration: 60s\nnodes: 3\nevents:\n  - at: 5s\n    slow: 1", "events[0]", "needs extra_delay"),
        ("duration: [60s]\nnodes: 3", "duration", "expected a single value"),
        ("duration: 60s\nnodes: 3\nevents: {at: 1s}", "events", "expected a list"),
    ])
    func errorsNameTheFieldPath(yaml: String, path: String, message: String) {
        guard let error = Self.error(yaml) else { return }
        #expect(error.path == path, "\(error)")
        #expect(error.description.contains(message), "\(error)")
        #expect(error.description.hasPrefix("bad.yaml:"), "\(error)")
    }

    @Test func invalidYAMLIsReportedAsSuch() {
        let error = Self.error("duration: 60s\nnodes: [3\n")
        #expect(error?.description.contains("not valid YAML") == true)
    }

    @Test func durationsAndRanges() {
        #expect(DurationText.parse("250ms") == .milliseconds(250))
        #expect(DurationText.parse("1.5s") == .milliseconds(1_500))
        #expect(DurationText.parse("2m") == .seconds(120))
        #expect(DurationText.parse("800us") == .microseconds(800))
        #expect(DurationText.parse("800µs") == .microseconds(800))
        #expect(DurationText.parse("0") == .zero)
        #expect(DurationText.parse("5") == nil)
        #expect(DurationText.parse("s") == nil)
        #expect("1ms..5ms".rangeEnds?.low == "1ms")
        #expect("1ms..5ms..9ms".rangeEnds == nil)
    }

    @Test func everyShippedScenarioParses() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("simulations")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files.count >= 8, "\(files)")
        for file in files {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            #expect(throws: Never.self, "\(file)") { try ScenarioParser.parse(yaml: text, file: file, directory: directory.path) }
        }
    }
}
