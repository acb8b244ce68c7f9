import Foundation
import Testing

/// `starling simulate FILE [--seed N] [--json]` (contract), run as a real process.
@Suite struct SimulateCommandTests {
    static let scenario = """
        duration: 40s
        nodes: 8
        stagger: 2s
        network: {delay: {base: 1ms..5ms, jitter: {exponential: 2ms}}, loss: 2%}
        events:
          - at: 10s
            crash: 1
        checks: {convergence: 20s}
        """

    func write(_ text: String, _ name: String, in cli: CLIRunner) throws -> String {
        let path = cli.path(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func traceHash(_ output: String) -> String? {
        output.split(separator: " ").drop { $0 != "trace" }.dropFirst().first.map(String.init)
    }

    @Test func printsTheSeedFirstThenProgressThenMeasurements() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let file = try write(Self.scenario, "small.yaml", in: cli)
        let result = try cli.run("simulate", file, "--seed", "42", "--machine", "heartbeat")
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first == "seed 42")
        #expect(lines.dropFirst().first?.hasPrefix("t=10s/40s") == true)
        #expect(result.stdout.contains("scenario small  seed 42  PASSED"))
        #expect(result.stdout.contains("crash detection per observer"))
    }

    @Test func aSeedGivesTheSameRunInAnotherProcess() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let file = try write(Self.scenario, "small.yaml", in: cli)
        let first = try cli.run("simulate", file, "--seed", "9", "--machine", "heartbeat", "--quiet")
        let second = try cli.run("simulate", file, "--seed", "9", "--machine", "heartbeat", "--quiet")
        let other = try cli.run("simulate", file, "--seed", "10", "--machine", "heartbeat", "--quiet")
        #expect(traceHash(first.stdout) != nil)
        #expect(traceHash(first.stdout) == traceHash(second.stdout))
        #expect(traceHash(first.stdout) != traceHash(other.stdout))
    }

    /// The same with the real peer. Known to fail while the membership core iterates dictionaries
    /// in an order that depends on the process's hash seed (members.values in digest, sync, reap).
    @Test func aSeedGivesTheSameRunInAnotherProcessWithTheRealPeer() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let file = try write(Self.scenario, "small.yaml", in: cli)
        let runs = try (0..<3).map { _ in try cli.run("simulate", file, "--seed", "9", "--quiet") }
        // Separate processes have different hash seeds: nothing may depend on dictionary order.
        #expect(Set(runs.map { traceHash($0.stdout) }).count == 1)
    }

    @Test func jsonGoesToStandardOutputAndTheSeedToStandardError() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let file = try write(Self.scenario, "small.yaml", in: cli)
        let result = try cli.run("simulate", file, "--seed", "3", "--json", "--machine", "heartbeat")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("seed 3"))
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(report?["seed"] as? Int == 3)
        #expect(report?["passed"] as? Bool == true)
        #expect((report?["detection"] as? [String: Any])?["samples"] as? Int ?? 0 > 0)
    }

    @Test func aFailedCheckExitsNonZeroWithTheCommandThatReproducesIt() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let failing = Self.scenario.replacingOccurrences(of: "checks: {convergence: 20s}", with: "checks: {convergence: 20s, detection: 500ms}")
        let file = try write(failing, "strict.yaml", in: cli)
        let result = try cli.run("simulate", file, "--seed", "5", "--machine", "heartbeat", "--quiet")
        #expect(result.status == 1)
        #expect(result.stdout.contains("FAILED"))
        #expect(result.stdout.contains("crash-detection:"))
        #expect(result.stdout.contains("reproduce: starling simulate \(file) --seed 5"))
        #expect(result.stderr.contains("reproduce with: starling simulate \(file) --seed 5"))
    }

    @Test func aBadScenarioIsOneLineNamingTheField() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        let file = try write("duration: 40s\nnodes: 8\nnetwork:\n  loss: lots\n", "bad.yaml", in: cli)
        let result = try cli.run("simulate", file)
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(file):4: network.loss: expected a probability"), "\(result.stderr)")
        let missing = try cli.run("simulate", cli.path("nope.yaml"))
        #expect(missing.status == 1 && missing.stderr.contains("nope.yaml: cannot read the file"))
    }
}
