import Foundation
import StarlingLearning
import StarlingRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum InferenceTourLimits {
    /// How long the three services have to be served by every peer they name, from submission.
    static let servingSeconds = 60.0
    /// Requests in flight at once while the cloud peers are killed (`--chaos`).
    static let chaosConcurrency = 4
    /// The edge model learns from a tenth of the training split: clearly weaker, yet sure of most
    /// digits (about a fifth are hard by CrossEntropy). The cloud model learns from all of it.
    static let edgeTrainingShare = 0.1
    static let edgeEpochs = 40
    static let cloudEpochs = 40
    static let edgeLearningRate = 0.5
    static let cloudLearningRate = 0.3
}

/// `starling demo --inference [--chaos]`: joint inference on a local cluster of real peers.
///
/// Two cloud peers (tier=cloud) and two edges, one with an HTTP endpoint. A weak logistic
/// regression (a tenth of the digits training split) is imported as the edge model
/// and an MLP trained on all of it as the cloud model; three services on the same peers answer
/// the 359 held-out digits through the edge's endpoint, one request per example: edge-only
/// (EdgeOnly), joint (CrossEntropy, the default threshold) and cloud-only (CloudOnly). With
/// `chaos` the joint service then answers them again, four at a time, and both cloud peers are
/// killed (`kill -9`) midway: the requests after the kill are answered at the edge, and none fails.
struct InferenceTour {
    let chaos: Bool
    let keep: Bool
    let seed: UInt64

    static let peers = [
        LocalPeer(name: "cloud-1", roles: "peer,coordinator,submit", tags: "tier=cloud"),
        LocalPeer(name: "cloud-2", roles: "peer,coordinator", tags: "tier=cloud"),
        LocalPeer(name: "edge-1", roles: "peer", tags: "tier=edge", http: true),
        LocalPeer(name: "edge-2", roles: "peer", tags: "tier=edge"),
    ]

    /// The three services, in the order they are measured (the cloud-only one needs the clouds alive).
    static let services = [("digits-edge", "EdgeOnly"), ("digits-cloud", "CloudOnly"), ("digits-joint", "CrossEntropy")]

    func run() throws {
        let cluster = try LocalCluster(peers: Self.peers, prefix: "starling-infer", keep: keep)
        defer { cluster.stopAll() }
        let signals = ClusterSignals.install { cluster.stopAll() }
        defer { signals.cancel() }
        printNow("workspace: \(cluster.work)\(keep ? "" : " (removed at the end)")")

        let (test, small, big) = try Self.models(seed: seed)

        let base = try cluster.startPeers()
        let port = cluster.httpPort("edge-1")
        printNow("4 peers running on 127.0.0.1:\(base)-\(base + 3): cloud-1, cloud-2 (tier=cloud), edge-1, edge-2; "
            + "edge-1 serves HTTP on 127.0.0.1:\(port)")
        try FileManager.default.createDirectory(atPath: "\(cluster.work)/models", withIntermediateDirectories: true)
        for (name, weights, peer) in [("digits-small", small, "edge-1"), ("digits-big", big, "cloud-1")] {
            let path = "\(cluster.work)/models/\(name).safetensors"
            try Data(SafeTensors.encode(weights)).write(to: URL(fileURLWithPath: path))
            printNow("$ starling model import \(name) --path \(name).safetensors --peer \(peer)")
            try cluster.starling(["model", "import", name, "--path", path, "--peer", cluster.directory(peer)])
        }
        for (name, miner) in Self.services {
            let path = "\(cluster.work)/\(name).yaml"
            try Data(Self.spec(name: name, miner: miner).utf8).write(to: URL(fileURLWithPath: path))
            _ = try cluster.submit(path, through: "cloud-1")
        }
        printNow("$ starling task submit digits-{edge,cloud,joint}.yaml (hardExampleMining EdgeOnly, CloudOnly, CrossEntropy; "
            + "cloud_timeout_ms 500)")
        try waitUntilServed(cluster)
        printNow("every peer serves the three services; sending the \(test.count) held-out digits, one request each, "
            + "to POST http://127.0.0.1:\(port)/v2/models/SERVICE/infer\n")

        var answers: [String: [InferenceResult]] = [:]
        for (name, _) in Self.services {
            answers[name] = InferenceLoad(port: port, service: name, concurrency: 1).send(test)
        }
        printNow("service        miner          accuracy  to cloud   p50       p99")
        for (name, miner) in [Self.services[0], Self.services[2], Self.services[1]] {
            printNow(Self.line(name, miner, answers[name]!, test: test))
        }
        var failed = answers.values.map { $0.filter { $0.failure != nil }.count }.reduce(0, +)
        if chaos { failed += try chaosRun(cluster, port: port, test: test) }
        let problem = answers.values.joined().first(where: { $0.failure != nil })?.failure
        cluster.stopAll()
        guard failed == 0 else { throw CLIError("demo: \(failed) requests failed, the first: \(problem ?? "?")") }
        print("demo: done, 0 failed requests; every process it started has stopped")
    }

    /// The joint service again, four requests at a time; both cloud peers are killed midway. The
    /// requests sent after the kill: where they were answered, how many failed, their p99. The
    /// number of failed requests.
    private func chaosRun(_ cluster: LocalCluster, port: Int, test: LabeledData) throws -> Int {
        printNow("\n--chaos: the joint service again, \(InferenceTourLimits.chaosConcurrency) requests at a time; "
            + "kill -9 of cloud-1 and cloud-2 midway")
        let killedAt = KillTime()
        let results = InferenceLoad(port: port, service: "digits-joint", concurrency: InferenceTourLimits.chaosConcurrency)
            .send(test) {
                killedAt.set(Date())
                cluster.kill9("cloud-1")
                cluster.kill9("cloud-2")
                printNow("killed cloud-1 and cloud-2 (kill -9): no peer holds the cloud model's role now")
            }
        let kill = killedAt.get() ?? .distantFuture
        let before = results.filter { $0.started < kill }, after = results.filter { $0.started >= kill }
        printNow(Self.line("before kill", "", before, test: test))
        printNow(Self.line("after kill", "", after, test: test))
        let failed = results.filter { $0.failure != nil }
        let places = Dictionary(grouping: after.compactMap(\.computedAt), by: { $0 }).mapValues(\.count)
        printNow("after the kill: \(after.count) requests; " + places.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
            .joined(separator: ", ") + "; \(after.filter { $0.failure != nil }.count) failed; p99 \(Self.milliseconds(after, 0.99)) "
            + "(cloud deadline 500 ms)")
        if let first = failed.first?.failure { printNow("first failure: \(first)") }
        return failed.count
    }

    /// The held-out digits, and the edge and cloud models trained on the rest (printed as they are).
    static func models(seed: UInt64) throws -> (test: LabeledData, small: ModelWeights, big: ModelWeights) {
        let (train, test) = Digits.stratifiedSplit(try Digits.load(), testFraction: 0.2, seed: seed)
        let edgeTrain = Digits.stratifiedSplit(train, testFraction: 1 - InferenceTourLimits.edgeTrainingShare, seed: seed + 1).train
        let (small, edgeAccuracy) = try Self.train(.logreg, on: edgeTrain, epochs: InferenceTourLimits.edgeEpochs, test: test)
        let (big, cloudAccuracy) = try Self.train(.mlp, on: train, epochs: InferenceTourLimits.cloudEpochs, test: test)
        printNow("edge model: logistic regression on \(edgeTrain.count) samples, \(InferenceTourLimits.edgeEpochs) epochs "
            + "(test accuracy \(RoundWatch.fixed(edgeAccuracy)) in-process)")
        printNow("cloud model: MLP 64-32-10 on \(train.count) samples, \(InferenceTourLimits.cloudEpochs) epochs "
            + "(test accuracy \(RoundWatch.fixed(cloudAccuracy)) in-process)")
        return (test, small, big)
    }

    /// Writes the tour's held-out digits (`test.csv`) and models (`digits-small.safetensors`,
    /// `digits-big.safetensors`) into `directory`, and starts nothing (for a benchmark or a baseline).
    static func writeData(to directory: String, seed: UInt64) throws {
        let (test, small, big) = try models(seed: seed)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(DatasetFile.encodeCSV(test)).write(to: URL(fileURLWithPath: "\(directory)/test.csv"))
        try Data(SafeTensors.encode(small)).write(to: URL(fileURLWithPath: "\(directory)/digits-small.safetensors"))
        try Data(SafeTensors.encode(big)).write(to: URL(fileURLWithPath: "\(directory)/digits-big.safetensors"))
        print("wrote test.csv (\(test.count) samples), digits-small.safetensors and digits-big.safetensors to \(directory)")
    }

    /// Waits until every peer serves each service in its roles at the deployment's version.
    private func waitUntilServed(_ cluster: LocalCluster) throws {
        let deadline = Date().addingTimeInterval(InferenceTourLimits.servingSeconds)
        while Date() < deadline {
            if let (name, how) = cluster.unexpectedExits().first {
                throw CLIError("the peer \(name) \(how): \(cluster.logTail(name, lines: 3))")
            }
            let served = Self.services.allSatisfy { service, _ in
                cluster.names.allSatisfy { peer in
                    guard let report = cluster.task(service, from: peer)?.service, report.version > 0,
                          let local = report.local, !local.roles.isEmpty else { return false }
                    return local.roles.allSatisfy { local.versions[$0] == report.version }
                }
            }
            if served { return }
            usleep(200_000)
        }
        throw CLIError("the services were not served by every peer within \(Int(InferenceTourLimits.servingSeconds)) s; "
            + "logs are in \(cluster.work)/logs" + (keep ? "" : " (use --keep)"))
    }

    /// A built-in model trained here from `seed`, and its accuracy on `test`.
    static func train(_ kind: BuiltinWorker, on data: LabeledData, epochs: Int, test: LabeledData) throws
        -> (ModelWeights, Double) {
        let trainer = BuiltinTrainer(kind: kind, featureCount: Digits.featureCount, classCount: Digits.classCount)
        let trained = try trainer.train(trainer.initialWeights(seed: 1), on: data, epochs: epochs, batchSize: 32,
                                        learningRate: kind == .logreg ? InferenceTourLimits.edgeLearningRate : InferenceTourLimits.cloudLearningRate, proximalMu: 0, seed: 2).weights
        return (trained, try trainer.evaluate(trained, on: test).accuracy)
    }

    /// One line of the table: accuracy, the share answered in the cloud, latency p50 and p99.
    static func line(_ name: String, _ miner: String, _ results: [InferenceResult], test: LabeledData) -> String {
        let answered = results.filter { $0.failure == nil }
        let correct = answered.filter { $0.predicted == Int(test.labels[$0.index]) }.count
        let cloud = answered.filter { $0.computedAt == "cloud" }.count
        let accuracy = answered.isEmpty ? "-" : RoundWatch.fixed(Double(correct) / Double(answered.count))
        let share = answered.isEmpty ? "-" : "\(Int((100 * Double(cloud) / Double(answered.count)).rounded()))%"
        return name.padding(toLength: 15, withPad: " ", startingAt: 0) + miner.padding(toLength: 15, withPad: " ", startingAt: 0)
            + accuracy.padding(toLength: 10, withPad: " ", startingAt: 0) + share.padding(toLength: 11, withPad: " ", startingAt: 0)
            + milliseconds(results, 0.5).padding(toLength: 10, withPad: " ", startingAt: 0) + milliseconds(results, 0.99)
            + (answered.count < results.count ? "  \(results.count - answered.count) FAILED" : "")
    }

    /// The `quantile` of the results' latencies, in milliseconds.
    static func milliseconds(_ results: [InferenceResult], _ quantile: Double) -> String {
        let sorted = results.map(\.seconds).sorted()
        guard !sorted.isEmpty else { return "-" }
        return String(format: "%.1f ms", 1000 * sorted[min(sorted.count - 1, Int(Double(sorted.count) * quantile))])
    }

    static func spec(name: String, miner: String) -> String {
        """
        apiVersion: edgeai.io/v1alpha1
        kind: JointInferenceService
        metadata:
          name: \(name)
        spec:
          coordinator:
            tags:
              tier: cloud
          edgeWorker:
            model:
              name: digits-small
            hardExampleMining:
              name: \(miner)
            workerSpec:
              scriptBootFile: builtin:logreg
              parameters:
                - key: cloud_timeout_ms
                  value: "500"
          cloudWorker:
            model:
              name: digits-big
            workerSpec:
              scriptBootFile: builtin:mlp

        """
    }
}

/// When the cloud peers were killed, set from a sending thread.
private final class KillTime: @unchecked Sendable {
    private let lock = NSLock()
    private var moment: Date?

    func set(_ value: Date) {
        lock.lock()
        moment = value
        lock.unlock()
    }

    func get() -> Date? {
        lock.lock()
        defer { lock.unlock() }
        return moment
    }
}
