import Foundation
import StarlingLearning
import StarlingLocalAPI

/// The three parts of `starling demo`, in the order the tour runs them.
enum TourPart: String, CaseIterable {
    case federated, inference, incremental
}

/// What every part of `starling demo` shares: one local cluster of real peers (two cloud peers,
/// four edges, edge-1 serving HTTP), the digits as `TourData` cuts them, the kind of model the
/// edges train and serve, and the chaos switch. The parts know the edge model by one name,
/// `modelName`: the FederatedTask's (a service or job resolves it to the task's committed model),
/// or with `--only` a stand-in trained here and imported under that name.
struct Tour {
    let cluster: LocalCluster
    let data: TourData
    let model: BuiltinWorker
    let chaos: Bool
    let started: Date

    static let modelName = "digits"
    /// The edge whose HTTP endpoint every load goes through, and which holds the job's dataset.
    static let gateway = "edge-1"

    /// Two cloud peers (tier=cloud: the service's and the job's coordinators, the cloud model's
    /// workers; cloud-1 may submit) and four edges (the datasets, the edge workers).
    static let peers = [
        LocalPeer(name: "cloud-1", roles: "peer,coordinator,submit,admin", tags: "tier=cloud,capacity=10"),
        LocalPeer(name: "cloud-2", roles: "peer,coordinator", tags: "tier=cloud,capacity=10"),
    ] + (1...4).map { LocalPeer(name: "edge-\($0)", roles: "peer,coordinator", tags: "tier=edge", http: $0 == 1) }

    /// Seconds since the tour started, as "12.3 s".
    var clock: String { "\(RoundWatch.fixed(Date().timeIntervalSince(started), digits: 1)) s" }

    /// Where the logs are, for an error.
    var logsHint: String { "; logs are in \(cluster.work)/logs" + (cluster.keep ? "" : " (use --keep)") }

    /// A file in the workspace holding `bytes`; its path.
    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let path = "\(cluster.work)/files/\(name)"
        try FileManager.default.createDirectory(atPath: "\(cluster.work)/files", withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// `starling model import NAME --path FILE --peer PEER`, shown as it would be typed.
    func importModel(_ name: String, _ weights: ModelWeights, on peer: String) throws {
        let path = try write(SafeTensors.encode(weights), "\(name).safetensors")
        printNow("$ starling model import \(name) --path \(name).safetensors --peer \(peer)")
        try cluster.starling(["model", "import", name, "--path", path, "--peer", cluster.directory(peer)])
    }

    /// With `--only` a later part has no federated model: a stand-in trained here on the same
    /// rows, all in one place, imported under the name the parts use.
    func importStandIn() throws {
        let weights = try data.standIn(model)
        printNow("(--only: in place of the federated part, a \(model.rawValue) is trained here on the edges' "
            + "\(data.edgeTrain.count) training digits \(data.knownText): \(try data.accuracy(weights, model).text(data)))")
        try importModel(Self.modelName, weights, on: Self.gateway)
    }

    /// Peers killed by an earlier part's chaos start again from their data directories: each part
    /// starts with the whole cluster.
    func reviveKilled() throws {
        for name in cluster.killedPeers {
            printNow("$ starling peer --data-dir \(name) ...   (\(name) restarts from its data directory and rejoins)")
            try cluster.restart(name)
        }
    }

    /// The task `name` as the first live peer of `preferred` (then any) sees it.
    func task(_ name: String, preferring preferred: String = Tour.gateway) -> TaskReport? {
        if cluster.isRunning(preferred), let report = cluster.task(name, from: preferred) { return report }
        return cluster.anyLive.flatMap { cluster.task(name, from: $0) }
    }

    /// Throws when a peer exited although nobody stopped or killed it.
    func checkPeers() throws {
        if let (name, how) = cluster.unexpectedExits().first {
            throw CLIError("the peer \(name) \(how): \(cluster.logTail(name, lines: 3))")
        }
    }
}

/// One part's line of the closing summary: the accuracy before and after, and what served it.
struct TourOutcome {
    let part: TourPart
    let before: String
    let after: String
    /// Problems that make the demo fail (failed requests, a second deploy), after the summary.
    var problems: [String] = []
}
