import Foundation
import StarlingLearning
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `starling dataset append` on real peer processes (docs/cli.md, "dataset append"): samples are
/// added durably, the new size is gossiped, a file of another width changes nothing, a restarted
/// peer keeps its arrivals, and a training worker reads every row.
extension LoopbackClusterTests {
    struct DatasetListJSON: Decodable {
        struct Local: Decodable {
            var name: String
            var samples: UInt64
            var bytes: UInt64
            var classes: UInt64
            var arrivals: UInt64
        }

        struct Declared: Decodable {
            var peer: String
            var name: String
            var samples: UInt64
            var bytes: UInt64
        }

        var datasets: [Local]
        var declared: [Declared]
    }

    static func datasetList(_ cli: CLIRunner, _ node: Node) -> DatasetListJSON? {
        guard let result = try? cli.run("dataset", "list", "--json", "--peer", node.directory), result.status == 0 else { return nil }
        return try? JSONDecoder().decode(DatasetListJSON.self, from: Data(result.stdout.utf8))
    }

    @Test func appendedSamplesAreDurableGossipedAndSeenByATrainingWorker() throws {
        let cli = CLIRunner()
        defer { cli.remove() }
        var nodes = try Self.trainingCluster(cli, names: ["cloud", "edge-a"])
        defer { Self.stopAll(nodes) }
        let edge = nodes[1]

        // The first 300 digits, registered; the next 120 appended.
        let digits = try Digits.load()
        let file = cli.path("digits.csv"), more = cli.path("more.csv"), narrow = cli.path("narrow.csv")
        try Data(DatasetFile.encodeCSV(digits.subset(Array(0..<300)))).write(to: URL(fileURLWithPath: file))
        try Data(DatasetFile.encodeCSV(digits.subset(Array(300..<420)))).write(to: URL(fileURLWithPath: more))
        let narrowRows = digits.subset(Array(420..<430))
        let narrowData = try LabeledData(features: (0..<10).flatMap { Array(narrowRows.features[($0 * 64)..<($0 * 64 + 63)]) },
                                         labels: narrowRows.labels, featureCount: 63, classCount: 10)
        try Data(DatasetFile.encodeCSV(narrowData)).write(to: URL(fileURLWithPath: narrow))
        let fileBytes = try FileManager.default.attributesOfItem(atPath: file)[.size] as! UInt64
        let moreBytes = try FileManager.default.attributesOfItem(atPath: more)[.size] as! UInt64

        let added = try cli.run("dataset", "add", "digits", "--path", file, "--peer", edge.directory)
        try #require(added.status == 0, "\(added.stderr)")
        let appended = try cli.run("dataset", "append", "digits", "--path", "more.csv", "--peer", edge.directory)
        #expect(appended.status == 0, "\(appended.stderr)")
        #expect(appended.stdout == "dataset digits: arrival 1 added, 120 samples (now 420 samples, 10 classes)", "\(appended.stdout)")
        let copy = "\(edge.directory)/datasets/digits/arrival-1.csv"
        #expect(FileManager.default.contentsEqual(atPath: copy, andPath: more), "the peer keeps its own copy")

        // Another width: a clear error, and nothing changes.
        let refused = try cli.run("dataset", "append", "digits", "--path", narrow, "--peer", edge.directory)
        #expect(refused.status != 0 && refused.stderr.contains("dataset digits has 64 features; \(narrow) has 63"), "\(refused.stderr)")
        let unknown = try cli.run("dataset", "append", "nothing", "--path", more, "--peer", edge.directory)
        #expect(unknown.status != 0 && unknown.stderr.contains("no dataset nothing on this peer"), "\(unknown.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(edge.directory)/datasets/digits") == ["arrival-1.csv"])
        let local = try #require(Self.datasetList(cli, edge)?.datasets.first)
        #expect(local.samples == 420 && local.bytes == fileBytes + moreBytes && local.arrivals == 1, "\(local)")
        #expect(try cli.run("dataset", "list", "--peer", edge.directory).stdout.contains("420 samples  64 features  10 classes  1 arrival  "))

        // The cloud sees the new total in the edge's gossiped tags.
        func cloudSees(_ samples: UInt64) -> Bool {
            Self.datasetList(cli, nodes[0])?.declared.contains { $0.peer == "edge-a" && $0.name == "digits" && $0.samples == samples
                && $0.bytes == fileBytes + moreBytes } == true
        }
        #expect(PeerCommandTests.wait(seconds: 10) { cloudSees(420) }, "\(String(describing: Self.datasetList(cli, nodes[0])))")

        // kill -9 and a restart: the arrival is still there, and declared again.
        kill(edge.process!.processIdentifier, SIGKILL)
        edge.process!.waitUntilExit()
        nodes[1].process = try PeerCommandTests.startPeer(
            cli, ["--data-dir", edge.directory, "--listen", edge.address, "--bootstrap", nodes[0].address, "--tags", "role=edge",
                  "--log-level", "info"], log: "\(edge.directory)/peer-2.log")
        let back = PeerCommandTests.wait(seconds: 15) { Self.datasetList(cli, nodes[1])?.datasets.first?.arrivals == 1 }
        #expect(back, "the restarted peer holds its arrival")
        #expect(Self.datasetList(cli, nodes[1])?.datasets.first?.samples == 420)
        #expect(PeerCommandTests.wait(seconds: 15) { (try? Self.states(cli, nodes[0])["edge-a"]) == "alive" && cloudSees(420) })

        // A training worker of the dataset reads all 420 rows (its file, then the arrival).
        let spec = cli.path("once.yaml")
        try """
            apiVersion: edgeai.io/v1alpha1
            kind: FederatedTask
            metadata: {name: once}
            spec:
              rounds: 1
              trainingWorkers:
                - name: only
                  workerSpec:
                    dataset: {name: digits}
                    trainScriptBootFile: builtin:logreg
                    parameters: [{key: num_classes, value: 10}]
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        let submitted = try cli.run("task", "submit", spec, "--peer", nodes[0].directory)
        try #require(submitted.status == 0, "\(submitted.stderr)")
        let completed = PeerCommandTests.wait(seconds: 60) { Self.trainingTask(cli, nodes[0], name: "once")?.phase == "completed" }
        #expect(completed, "\(Self.describeTraining(cli, nodes, name: "once"))")
        let work = "\(edge.directory)/work"
        let handed = FileManager.default.enumerator(atPath: work)?.compactMap { $0 as? String }
            .first { $0.hasSuffix("/dataset-digits.csv") }
        let path = try #require(handed.map { "\(work)/\($0)" }, "the worker's whole dataset is in its work directory")
        let rows = try DatasetFile.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), format: .csv)
        #expect(rows.count == 420 && rows.labels == digits.subset(Array(0..<420)).labels)
    }
}
