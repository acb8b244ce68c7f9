import ArgumentParser
import Foundation
import StarlingLearning
import StarlingRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `starling demo`: the tour of Starling's three edge-AI features on one local cluster of real
/// peers (the README's main job): federated training (`FederatedTour`), then joint inference with
/// the trained model at the edges (`InferenceTour`), then incremental learning as labelled digits
/// arrive, deployed hot under load (`IncrementalTour`); a summary of the accuracies before and
/// after, and every process stopped (also on Ctrl-C and on failure). `--chaos` kills a
/// coordinator in each part; `--only PART` runs one part (a later part then imports a stand-in
/// for the federated model, trained here on the same rows); `--inference` is `--only inference`.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Tour federated learning, joint inference and incremental learning on six local peers (loopback).",
        discussion: """
            Parts: 1. federated (a FederatedTask trains on the digits 0-6 the edges hold), 2. inference (a \
            JointInferenceService: the federated model at the edges, an MLP in the cloud, hard examples to the cloud), \
            3. incremental (an IncrementalLearningJob at edge-1 from the federated model: digits of every class arrive, \
            the candidate deploys hot under load). With --only inference or --only incremental the federated model is \
            replaced by a stand-in trained in-process on the same rows.
            """)

    @Option(help: "The part to run alone: federated, inference or incremental (default: all three, in order).")
    var only: String?
    @Option(help: "logreg or mlp (a 64-32-10 perceptron): the model the edges train and serve.")
    var model = "logreg"
    @Option(help: "Rounds of federated averaging.")
    var rounds = 10
    @Option(help: "Updates each federated round waits for (the task's min_node_number, 1 to 5): 3 lets a round go on without a killed edge's workers; 5 waits for every worker, as Flower's baseline does.")
    var minUpdates = 3
    @Option(help: "Dirichlet concentration of the label skew (smaller: more skewed).")
    var alpha = 0.5
    @Option(help: "Seed of the split.")
    var seed: UInt64 = 0
    @Option(help: "The edges' training data holds the digits below this (default 7; with --write-data 10: all of them).")
    var knownDigits: Int?
    @Flag(help: "Kill (kill -9) a coordinator in each part: another peer takes over.")
    var chaos = false
    @Flag(help: "Same as --only inference.")
    var inference = false
    @Option(help: "Where to write the federated model.")
    var out = "starling-demo-model.safetensors"
    @Flag(help: "Keep the workspace (data directories, logs) instead of removing it.")
    var keep = false
    @Option(help: "Only write the federated part's split (digits-0.csv … digits-4.csv, test.csv) into this directory, and start nothing (for a baseline on the same data). With --inference: test.csv and the two models.")
    var writeData: String?

    func run() throws {
        guard let kind = BuiltinWorker(rawValue: model), [.logreg, .mlp].contains(kind) else {
            throw CLIError("--model is logreg or mlp")
        }
        let part = try onlyPart()
        if let writeData { return try write(to: writeData, inference: part == .inference) }
        let known = knownDigits ?? 7
        guard (1...Digits.classCount).contains(known) else { throw CLIError("--known-digits is 1 to 10") }
        guard (1...FederatedTourLimits.parts).contains(minUpdates) else {
            throw CLIError("--min-updates is 1 to \(FederatedTourLimits.parts) (the federated part has \(FederatedTourLimits.parts) training workers)")
        }
        let data = try TourData(seed: seed, knownDigits: known)
        let started = Date()
        let cluster = try LocalCluster(peers: Tour.peers, prefix: "starling-demo", keep: keep)
        defer { cluster.stopAll() }
        let signals = ClusterSignals.install { cluster.stopAll() }
        defer { signals.cancel() }
        printNow("workspace: \(cluster.work)\(keep ? "" : " (removed at the end)")")
        let base = try cluster.startPeers()
        printNow("6 peers running on 127.0.0.1:\(base)-\(base + 5): cloud-1, cloud-2 (tier=cloud), edge-1 … edge-4; "
            + "edge-1 serves HTTP on 127.0.0.1:\(cluster.httpPort(Tour.gateway))")
        let tour = Tour(cluster: cluster, data: data, model: kind, chaos: chaos, started: started)

        var outcomes: [TourOutcome] = []
        let parts = part.map { [$0] } ?? TourPart.allCases
        for part in parts {
            try tour.reviveKilled()
            if part != .federated && !parts.contains(.federated) { try tour.importStandIn() }
            switch part {
            case .federated:
                let path = CLIPath.absolute(out)
                outcomes.append(try FederatedTour(tour: tour, rounds: rounds, minUpdates: minUpdates, alpha: alpha, out: path).run())
            case .inference: outcomes.append(try InferenceTour(tour: tour).run())
            case .incremental: outcomes.append(try IncrementalTour(tour: tour).run())
            }
        }
        printNow("\nsummary (accuracy on the \(data.test.count) held-out digits)")
        for outcome in outcomes {
            printNow("  \(outcome.part.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0))before \(outcome.before)")
            printNow("  \("".padding(toLength: 12, withPad: " ", startingAt: 0))after  \(outcome.after)")
        }
        cluster.stopAll()
        let problems = outcomes.flatMap(\.problems)
        guard problems.isEmpty else { throw CLIError("demo: " + problems.joined(separator: "; ")) }
        print("demo: done in \(RoundWatch.fixed(Date().timeIntervalSince(started), digits: 1)) s"
            + (parts.contains(.inference) || parts.contains(.incremental) ? ", 0 failed requests" : "")
            + "; every process it started has stopped")
    }

    /// The part `--only` (or `--inference`) names; nil: all of them.
    private func onlyPart() throws -> TourPart? {
        if inference {
            guard only == nil || only == TourPart.inference.rawValue else { throw CLIError("--inference is --only inference") }
            return .inference
        }
        guard let only else { return nil }
        guard let part = TourPart(rawValue: only) else {
            throw CLIError("--only is one of " + TourPart.allCases.map(\.rawValue).joined(separator: ", ") + ", not \(only)")
        }
        return part
    }

    /// `--write-data`: the federated part's split (all the digits unless `--known-digits`), or with
    /// `--inference` the held-out digits and the two models; starts nothing.
    private func write(to directory: String, inference: Bool) throws {
        let known = knownDigits ?? Digits.classCount
        guard (1...Digits.classCount).contains(known) else { throw CLIError("--known-digits is 1 to 10") }
        let data = try TourData(seed: seed, knownDigits: known)
        if inference { return try InferenceTour.writeData(to: directory, data: data) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (index, part) in data.edgeParts(FederatedTourLimits.parts, alpha: alpha).enumerated() {
            try Data(DatasetFile.encodeCSV(part)).write(to: URL(fileURLWithPath: "\(directory)/digits-\(index).csv"))
        }
        try Data(DatasetFile.encodeCSV(data.test)).write(to: URL(fileURLWithPath: "\(directory)/test.csv"))
        print("wrote digits-0.csv … digits-4.csv (Dirichlet \(alpha), seed \(seed)) and test.csv (\(data.test.count) samples) to \(directory)")
    }
}

enum POSIXFileRead {
    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        return [UInt8](data)
    }
}
