import Foundation
import StarlingMembership
import StarlingPeer
import Testing
@testable import StarlingSimulator

@Suite struct ScenarioRunTests {
    static func heartbeatOptions(seed: UInt64, test: String) -> ScenarioRunOptions {
        let directory = HeartbeatDirectory()
        var options = ScenarioRunOptions(seed: seed, reproduce: "swift test --filter \(test) (seed \(seed))") {
            HeartbeatMachine(setup: $0, directory: directory)
        }
        options.logLevel = nil
        return options
    }

    static func run(_ yaml: String, seed: UInt64 = 1, test: String = "ScenarioRunTests",
                    options: ((inout ScenarioRunOptions) -> Void)? = nil) throws -> (SimulationReport, ScenarioRun) {
        let scenario = try ScenarioParser.parse(yaml: yaml, file: "inline.yaml")
        var runOptions = heartbeatOptions(seed: seed, test: test)
        options?(&runOptions)
        let run = try ScenarioRun(scenario, options: runOptions, file: "inline.yaml")
        return (run.run(), run)
    }

    static let small = """
        duration: 60s
        nodes: 12
        stagger: 3s
        network: {delay: {base: 1ms..4ms, jitter: {exponential: 2ms}}, loss: 1%}
        faults:
          partitions:
            - {a: 0..3, from: 10s, to: 18s}
        events:
          - at: 20s
            crash: [node-5]
            store: lost
            restart_after: 5s
          - at: 22s
            crash: 1
          - at: 24s
            join: 2
        checks: {convergence: 25s, sample_every: 100ms}
        """

    @Test func aSmallScenarioRunsPassesAndReports() throws {
        let (report, run) = try Self.run(Self.small)
        #expect(report.passed, "\(report.rendered)")
        #expect(report.honestNodes == 14 && report.liveNodesAtEnd == 13)
        #expect(report.joins.count == 14 && report.joins.completed == 14)
        #expect(report.crashes.count == 2)
        #expect(report.detection.samples == 10)  // node-5 restarted before detection; 10 observers saw the other crash
        #expect(report.network.partitioned > 0 && report.network.lost > 0)
        #expect(report.convergence.convergedAt != nil)
        #expect(report.traffic.bytesPerNodePerSecond.map { $0 > 100 } == true)
        #expect(run.simulation.status(of: run.cluster.honest[5]) == .up)
        #expect(report.rendered.contains("PASSED"))
        let decoded = try JSONDecoder().decode(SimulationReport.self, from: Data(report.json.utf8))
        #expect(decoded.traceHash == report.traceHash && decoded.seed == 1)
    }

    @Test func aScenarioIsAFunctionOfItsSeed() throws {
        let swarm = "duration: 60s\nnodes: 10\nfaults: random\nchecks: {convergence: 25s}"
        let (a, _) = try Self.run(swarm, seed: 5)
        let (b, _) = try Self.run(swarm, seed: 5)
        let (c, _) = try Self.run(swarm, seed: 6)
        #expect(a.traceHash == b.traceHash && a.settings == b.settings)
        #expect(a.traceHash != c.traceHash)
    }

    @Test func aFailedCheckReportsTheSeedAndHowToReproduce() throws {
        let yaml = "duration: 40s\nnodes: 6\nevents:\n  - at: 5s\n    crash: [node-2]\nchecks: {detection: 1s, convergence: 20s}"
        let (report, _) = try Self.run(yaml, seed: 77, test: "ScenarioRunTests/aFailedCheckReportsTheSeedAndHowToReproduce")
        #expect(!report.passed)
        #expect(report.violations.contains { $0.check == "crash-detection" && $0.message.contains("node-2") })
        #expect(report.rendered.contains("reproduce: swift test --filter ScenarioRunTests/aFailedCheckReportsTheSeedAndHowToReproduce (seed 77)"))
        #expect(report.rendered.hasPrefix("scenario inline  seed 77  FAILED"))
    }

    @Test func attackersComeFromTheRegistry() throws {
        let yaml = "duration: 30s\nnodes: 4\nattackers: 1\nattacker_certified: false\nchecks: {convergence: 10s}"
        #expect {
            _ = try Self.run(yaml)
        } throws: { error in
            (error as? ScenarioError)?.path == "attackers" && "\(error)".contains("no")
                && "\(error)".contains("'forger'")
        }
        let recorder = Recorder()
        var contexts: [AttackerContext] = []
        let (report, run) = try Self.run(yaml) { options in
            options.attackers.register("forger") { context in
                contexts.append(context)
                return ScriptedMachine(name: "forger", recorder: recorder) { input, _ in
                    guard case .start = input else { return [] }
                    return context.honest.map { .sendDatagram([0xFF], to: $0.address) }
                }
            }
        }
        #expect(report.passed, "\(report.rendered)")
        #expect(report.attackers == 1 && contexts.count == 1)
        #expect(contexts.first?.certified == false && contexts.first?.honest.count == 4)
        #expect(contexts.first?.setup.certificate.authority != run.cluster.authority.publicKey)
        #expect(run.simulation.kind(of: run.cluster.attackers[0]) == .attacker)
        #expect(!run.simulation.isAdmitted(run.cluster.attackers[0]))
        #expect(report.counters["heartbeat.malformed"] == 4)
    }

    static let revocation = """
        duration: 60s
        nodes: 8
        stagger: 2s
        membership: {anti_entropy_interval: 5s}
        events:
          - at: 10s
            revoke: [node-6]
        checks: {convergence: 20s, revocation_spread: 20s}
        """

    @Test func aRevocationReachesTheClusterThroughARestartedPeer() throws {
        // The heartbeat stand-in knows nothing of revocations: the check must catch it.
        let (ignored, _) = try Self.run(Self.revocation)
        #expect(ignored.violations.contains { $0.check == "revocation-spread" && $0.message.contains("node-6") })
        // The real peer drops the revoked node everywhere.
        let (report, run) = try Self.run(Self.revocation) { options in
            options.makeMachine = { Peer(setup: $0) }
        }
        #expect(report.passed, "\(report.rendered)")
        #expect(run.cluster.revocations.count == 1)
        #expect(report.crashes.count == 1)  // the restarted carrier
    }

    static let simulations = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("simulations")

    /// simulations/regression-seeds.txt: `SEED [FILE] # why` per line.
    static var regressionSeeds: [String] {
        let text = (try? String(contentsOf: simulations.appendingPathComponent("regression-seeds.txt"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = content.split(separator: " ").map(String.init)
            return words.isEmpty ? nil : words.joined(separator: " ")
        }
    }

    /// Replays each regression seed with the real peer (and the forger for attacker scenarios).
    @Test(arguments: regressionSeeds)
    func regressionSeedsStillPass(line: String) throws {
        let words = line.split(separator: " ").map(String.init)
        let seed = try #require(UInt64(words[0]), "regression-seeds.txt: '\(words[0])' is not a seed")
        let file = words.count > 1 ? words[1] : "swarm.yaml"
        let text = try String(contentsOf: Self.simulations.appendingPathComponent(file), encoding: .utf8)
        let scenario = try ScenarioParser.parse(yaml: text, file: "simulations/\(file)", directory: Self.simulations.path)
        var options = ScenarioRunOptions(seed: seed, reproduce: "starling simulate simulations/\(file) --seed \(seed)") {
            Peer(setup: $0)
        }
        options.attackers.register("forger") { Forger(setup: $0.setup) }
        options.logLevel = nil
        let report = try ScenarioRun(scenario, options: options, file: file).run()
        #expect(report.passed, "seed \(seed) \(file):\n\(report.rendered)")
    }

    @Test func theRegressionSeedsFileIsNotEmpty() {
        #expect(Self.regressionSeeds.count >= 3)
    }
}
