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
    /// Requests in flight at once while the service's coordinator is killed (`--chaos`).
    static let chaosConcurrency = 4
    /// How long another cloud peer has to take over the service's coordination after the kill.
    static let takeOverSeconds = 40.0
    /// The joint service's CrossEntropy threshold: above Sedna's 0.5, so that most of the digits
    /// the edge model never saw (it is unsure between its known classes) go to the cloud, and few
    /// of the others.
    static let crossEntropyThreshold = "0.8"
}

/// Part 2 of `starling demo` (alone: `--only inference`, `--inference`): joint inference. The
/// edge model is the federated one (the FederatedTask's name resolves to its committed model),
/// which never saw the digits 7-9; the cloud model an MLP trained here on all of the training
/// split, imported at cloud-1. Three services on the same peers answer the held-out digits
/// through edge-1's HTTP endpoint, one request per example: edge-only (EdgeOnly), joint
/// (CrossEntropy: the examples the edge is unsure of go to the cloud) and cloud-only (CloudOnly).
/// With chaos the joint service answers them again, four at a time, and the service's coordinator
/// (a cloud peer) is killed (`kill -9`) midway: the other cloud peer takes over and none fails.
struct InferenceTour {
    let tour: Tour

    /// The three services, in the order they are measured (the cloud-only one needs the clouds alive).
    static let services = [("digits-edge", "EdgeOnly"), ("digits-cloud", "CloudOnly"), ("digits-joint", "CrossEntropy")]

    func run() throws -> TourOutcome {
        let cluster = tour.cluster, test = tour.data.test
        let port = cluster.httpPort(Tour.gateway)
        printNow("\n== 2. joint inference: the edge model answers at the edge; the examples it is unsure of go to a bigger model in the cloud")
        let big = try tour.data.cloudModel()
        printNow("cloud model: MLP 64-32-10 trained here on all \(tour.data.train.count) training digits: "
            + "\(try tour.data.accuracy(big, .mlp).text(tour.data))")
        try tour.importModel("digits-big", big, on: "cloud-1")
        for (name, miner) in Self.services {
            let path = try tour.write(Array(Self.spec(name: name, miner: miner, edgeBoot: tour.model.rawValue).utf8), "\(name).yaml")
            _ = try cluster.submit(path, through: "cloud-1")
        }
        printNow("$ starling task submit digits-{edge,cloud,joint}.yaml   (JointInferenceServices: edge model \(Tour.modelName), "
            + "cloud model digits-big; hardExampleMining EdgeOnly, CloudOnly, CrossEntropy with threshold_cross_entropy \(InferenceTourLimits.crossEntropyThreshold); cloud_timeout_ms 500)")
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
        let joint = answers["digits-joint"]!
        if let unknown = tour.data.unknownText {
            let known = joint.filter { tour.data.isKnown(test.labels[$0.index]) }
            let unseen = joint.filter { !tour.data.isKnown(test.labels[$0.index]) }
            printNow("joint, by digit: \(tour.data.knownText) \(Self.shares(known, test: test)); "
                + "\(unknown) (never seen at the edges) \(Self.shares(unseen, test: test))")
        }
        var failed = answers.values.map { $0.filter { $0.failure != nil }.count }.reduce(0, +)
        if let first = answers.values.joined().first(where: { $0.failure != nil })?.failure { printNow("first failure: \(first)") }
        if tour.chaos { failed += try chaosRun(cluster, port: port, test: test) }

        let edge = TourAccuracy(predicted: answers["digits-edge"]!.map { ($0.index, $0.predicted) }, data: tour.data)
        let jointAccuracy = TourAccuracy(predicted: joint.map { ($0.index, $0.predicted) }, data: tour.data)
        let share = Int((100 * Double(joint.filter { $0.computedAt == "cloud" }.count) / Double(max(1, joint.count))).rounded())
        return TourOutcome(part: .inference, before: "\(edge.text(tour.data)): the edge model alone",
                           after: "\(jointAccuracy.text(tour.data)): joint, \(share)% answered in the cloud",
                           problems: failed == 0 ? [] : ["\(failed) inference requests failed"])
    }

    /// "accuracy 0.9500, 12% to the cloud".
    static func shares(_ results: [InferenceResult], test: LabeledData) -> String {
        let answered = results.filter { $0.failure == nil }
        guard !answered.isEmpty else { return "no answers" }
        let correct = answered.filter { $0.predicted == Int(test.labels[$0.index]) }.count
        let cloud = answered.filter { $0.computedAt == "cloud" }.count
        return "accuracy \(RoundWatch.fixed(Double(correct) / Double(answered.count))), "
            + "\(Int((100 * Double(cloud) / Double(answered.count)).rounded()))% to the cloud"
    }

    /// The joint service again, four requests at a time; its coordinator (a cloud peer) is killed
    /// midway. The requests sent after the kill: where they were answered, how many failed, their
    /// p99; then who took over. The number of failed requests.
    private func chaosRun(_ cluster: LocalCluster, port: Int, test: LabeledData) throws -> Int {
        printNow("\n--chaos: the joint service again, \(InferenceTourLimits.chaosConcurrency) requests at a time; "
            + "kill -9 of its coordinator midway")
        let killedAt = KillTime()
        let results = InferenceLoad(port: port, service: "digits-joint", concurrency: InferenceTourLimits.chaosConcurrency)
            .send(test) {
                guard let victim = tour.task("digits-joint")?.coordinatorName else { return }
                killedAt.set(Date(), victim)
                cluster.kill9(victim)
                printNow("$ kill -9 \(victim)   (the service's coordinator, also a cloud worker)")
            }
        guard let (kill, victim) = killedAt.get() else { throw CLIError("no peer coordinated digits-joint to kill") }
        let before = results.filter { $0.started < kill }, after = results.filter { $0.started >= kill }
        printNow(Self.line("before kill", "", before, test: test))
        printNow(Self.line("after kill", "", after, test: test))
        let failed = results.filter { $0.failure != nil }
        let places = Dictionary(grouping: after.compactMap(\.computedAt), by: { $0 }).mapValues(\.count)
        printNow("after the kill: \(after.count) requests; " + places.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
            .joined(separator: ", ") + "; \(after.filter { $0.failure != nil }.count) failed; p99 \(Self.milliseconds(after, 0.99)) "
            + "(cloud deadline 500 ms)")
        if let first = failed.first?.failure { printNow("first failure: \(first)") }
        let deadline = Date().addingTimeInterval(InferenceTourLimits.takeOverSeconds)
        while Date() < deadline {
            try tour.checkPeers()
            if let coordinator = tour.task("digits-joint")?.coordinatorName, coordinator != victim {
                printNow("\(coordinator) took over the service's coordination \(RoundWatch.fixed(Date().timeIntervalSince(kill), digits: 1)) s "
                    + "after the kill; the edges kept answering meanwhile")
                return failed.count
            }
            usleep(250_000)
        }
        printNow("no other peer took over the service's coordination within \(Int(InferenceTourLimits.takeOverSeconds)) s")
        return failed.count
    }

    /// Writes the tour's held-out digits (`test.csv`) and models (`digits-small.safetensors`: the
    /// stand-in for the federated logistic regression, `digits-big.safetensors`: the cloud's MLP)
    /// into `directory`, and starts nothing (for a benchmark or a baseline).
    static func writeData(to directory: String, data: TourData) throws {
        let (small, big) = (try data.standIn(.logreg), try data.cloudModel())
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(DatasetFile.encodeCSV(data.test)).write(to: URL(fileURLWithPath: "\(directory)/test.csv"))
        try Data(SafeTensors.encode(small)).write(to: URL(fileURLWithPath: "\(directory)/digits-small.safetensors"))
        try Data(SafeTensors.encode(big)).write(to: URL(fileURLWithPath: "\(directory)/digits-big.safetensors"))
        print("wrote test.csv (\(data.test.count) samples), digits-small.safetensors and digits-big.safetensors to \(directory)")
    }

    /// Waits until every peer serves each service in its roles at the deployment's version.
    private func waitUntilServed(_ cluster: LocalCluster) throws {
        let deadline = Date().addingTimeInterval(InferenceTourLimits.servingSeconds)
        while Date() < deadline {
            try tour.checkPeers()
            let served = Self.services.allSatisfy { service, _ in
                cluster.names.filter(cluster.isRunning).allSatisfy { peer in
                    guard let report = cluster.task(service, from: peer)?.service, report.version > 0,
                          let local = report.local, !local.roles.isEmpty else { return false }
                    return local.roles.allSatisfy { local.versions[$0] == report.version }
                }
            }
            if served { return }
            usleep(200_000)
        }
        throw CLIError("the services were not served by every peer within \(Int(InferenceTourLimits.servingSeconds)) s"
            + tour.logsHint)
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

    static func spec(name: String, miner: String, edgeBoot: String) -> String {
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
              name: \(Tour.modelName)
            hardExampleMining:
              name: \(miner)\(miner == "CrossEntropy" ? "\n      parameters:\n        - key: threshold_cross_entropy\n          value: \"\(InferenceTourLimits.crossEntropyThreshold)\"" : "")
            workerSpec:
              scriptBootFile: builtin:\(edgeBoot)
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

/// When which peer was killed, set from a sending thread.
private final class KillTime: @unchecked Sendable {
    private let lock = NSLock()
    private var moment: (Date, String)?

    func set(_ value: Date, _ victim: String) {
        lock.lock()
        moment = (value, victim)
        lock.unlock()
    }

    func get() -> (Date, String)? {
        lock.lock()
        defer { lock.unlock() }
        return moment
    }
}
