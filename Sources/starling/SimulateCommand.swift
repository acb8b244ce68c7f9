import ArgumentParser
import Foundation
import StarlingCrypto
import StarlingPeer
import StarlingSimulator

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a deterministic simulation of a cluster from a scenario file.",
        discussion: """
            Prints the seed first, then progress, then the measurements. The same file and seed give \
            the same run. Exits with status 1 when a check fails, printing the command that \
            reproduces the run. The scenario format is in docs/simulation.md.
            """)

    @Argument(help: "The scenario file (YAML).")
    var file: String?

    @Option(name: .long, help: "The seed (default: the file's `seed:`, else a random one, printed).")
    var seed: UInt64?

    @Flag(name: .long, help: "Print the measurements as JSON on standard output (seed and progress go to standard error).")
    var json = false

    @Option(name: .customLong("log-level"), help: "Print node log lines at or above this level: debug, info, notice, warning, error.")
    var logLevel: String?

    @Flag(name: .long, help: "Do not print progress.")
    var quiet = false

    /// `peer` (the real SWIM peer) or `heartbeat` (the simulator's stand-in, for engine work).
    @Option(name: .long, help: .hidden)
    var machine = "peer"

    /// Measures the engine alone with cheap fake machines (see EngineBenchmark); run it on a release build.
    @Flag(name: .customLong("engine-benchmark"), help: .hidden)
    var engineBenchmark = false

    @Option(name: .long, help: .hidden)
    var nodes = 10_000

    @Option(name: .long, help: .hidden)
    var seconds = 60.0

    func validate() throws {
        if !engineBenchmark && file == nil { throw ValidationError("missing the scenario FILE") }
        if !["peer", "heartbeat"].contains(machine) { throw ValidationError("--machine must be peer or heartbeat") }
        if let logLevel, LogLevel(rawValue: logLevel) == nil {
            throw ValidationError("--log-level must be one of debug, info, notice, warning, error")
        }
    }

    func run() throws {
        if engineBenchmark { return benchmark() }
        let file = self.file!
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw CLIError("\(file): cannot read the file")
        }
        let scenario = try userFacing { try ScenarioParser.parse(yaml: text, file: file) }
        var random = SecureRandom()
        let seed = self.seed ?? scenario.seed ?? random.next()
        let status: (String) -> Void = json ? { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } : { print($0) }
        status("seed \(seed)")

        let reproduce = "starling simulate \(file) --seed \(seed)"
        var options = ScenarioRunOptions(seed: seed, reproduce: reproduce, makeMachine: machineFactory())
        options.attackers = SimulationMachines.attackers()
        options.logLevel = logLevel.flatMap(LogLevel.init(rawValue:))
        options.logHandler = { record in status(record.line) }
        if !quiet { options.progress = { status($0.line) } }
        let run = try userFacing { try ScenarioRun(scenario, options: options, file: file) }
        let report = run.run()
        print(json ? report.json : report.rendered)
        guard report.passed else {
            FileHandle.standardError.write(Data("simulation failed (seed \(seed)); reproduce with: \(reproduce)\n".utf8))
            throw ExitCode.failure
        }
    }

    private func machineFactory() -> (PeerSetup) -> any PeerMachine {
        switch machine {
        case "heartbeat":
            let directory = HeartbeatDirectory()
            return { HeartbeatMachine(setup: $0, directory: directory) }
        default:
            return SimulationMachines.peer
        }
    }

    private func benchmark() {
        let cpuBefore = processCPUSeconds()
        let result = EngineBenchmark.run(nodes: nodes, seconds: seconds, seed: seed ?? 1)
        let cpu = processCPUSeconds() - cpuBefore
        print(result.summary)
        print("cpu \(String(format: "%.3f", cpu)) s = \(String(format: "%.3f", Double(result.events) / cpu / 1e6)) M events per CPU second")
    }

    private func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}

/// The machines `starling simulate` runs: the one place where the simulator meets the real peer.
enum SimulationMachines {
    /// INTEGRATION POINT: every honest simulated node is made here.
    static func peer(_ setup: PeerSetup) -> any PeerMachine {
        Peer(setup: setup)
    }

    /// INTEGRATION POINT: attacker machines by name, for scenarios with `attackers:`.
    static func attackers() -> AttackerRegistry {
        var registry = AttackerRegistry()
        registry.register("forger") { Forger(setup: $0.setup) }
        return registry
    }
}
