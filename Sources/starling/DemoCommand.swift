import ArgumentParser
import Foundation
import StarlingLearning
import StarlingRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `starling demo`: federated training on a local cluster of real peers (the README's main job).
///
/// A throwaway authority admits five peers on loopback (one tagged as the cloud); the embedded
/// handwritten-digits set is split 80/20 (stratified), and the training part split over five
/// datasets by a Dirichlet(α) label skew, kept by the four edge peers; a FederatedTask in the
/// seed's format trains on them with the built-in workers; progress shows as rounds commit. With
/// `--chaos` the coordinator is killed (`kill -9`) midway and another peer takes over. At the end
/// the final model is exported and evaluated on the held-out 20%, and every process is stopped.
/// `--inference` runs the joint-inference tour instead (`InferenceTour`).
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train a model across five local peers whose data never leaves them (federated learning on loopback).")

    @Option(help: "logreg or mlp (a 64-32-10 perceptron).")
    var model = "logreg"
    @Option(help: "Rounds of federated averaging.")
    var rounds = 10
    @Option(help: "Dirichlet concentration of the label skew (smaller: more skewed).")
    var alpha = 0.5
    @Option(help: "Seed of the split.")
    var seed: UInt64 = 0
    @Flag(help: "Kill the coordinator (kill -9) midway; another peer takes over. With --inference: both cloud peers, under load.")
    var chaos = false
    @Flag(help: "Instead: joint inference (an edge model, a cloud model, hard examples to the cloud) through an edge's HTTP endpoint.")
    var inference = false
    @Option(help: "Where to write the final model.")
    var out = "starling-demo-model.safetensors"
    @Flag(help: "Keep the workspace (data directories, logs) instead of removing it.")
    var keep = false
    @Option(help: "Only write the split (digits-0.csv … digits-4.csv, test.csv) into this directory, and start nothing (for a baseline on the same data). With --inference: test.csv and the two models.")
    var writeData: String?

    func run() throws {
        guard ["logreg", "mlp"].contains(model) else { throw CLIError("--model is logreg or mlp") }
        if inference, let writeData { return try InferenceTour.writeData(to: writeData, seed: seed) }
        if inference { return try InferenceTour(chaos: chaos, keep: keep, seed: seed).run() }
        if let writeData {
            let digits = try Digits.load()
            let (train, test) = Digits.stratifiedSplit(digits, testFraction: 0.2, seed: seed)
            try FileManager.default.createDirectory(atPath: writeData, withIntermediateDirectories: true)
            for (index, part) in Digits.dirichletPartition(train, parts: 5, alpha: alpha, seed: seed).enumerated() {
                try Data(DatasetFile.encodeCSV(part)).write(to: URL(fileURLWithPath: "\(writeData)/digits-\(index).csv"))
            }
            try Data(DatasetFile.encodeCSV(test)).write(to: URL(fileURLWithPath: "\(writeData)/test.csv"))
            print("wrote digits-0.csv … digits-4.csv (Dirichlet \(alpha), seed \(seed)) and test.csv (\(test.count) samples) to \(writeData)")
            return
        }
        let cluster = try LocalCluster(peers: Self.peers, prefix: "starling-demo", keep: keep)
        defer { cluster.stopAll() }
        let signals = ClusterSignals.install { cluster.stopAll() }
        defer { signals.cancel() }
        print("workspace: \(cluster.work)\(keep ? "" : " (removed at the end)")")

        // The data: the test part stays with the demo, the training part is split over the edges.
        let digits = try Digits.load()
        let (train, test) = Digits.stratifiedSplit(digits, testFraction: 0.2, seed: seed)
        let parts = Digits.dirichletPartition(train, parts: 5, alpha: alpha, seed: seed)
        let base = try cluster.startPeers()
        print("5 peers running on 127.0.0.1:\(base)-\(base + 4); cloud is tagged capacity=10 (it usually wins elections)")
        let holders = ["edge-1", "edge-2", "edge-3", "edge-4", "edge-1"]
        for (index, part) in parts.enumerated() {
            let path = "\(cluster.work)/data/digits-\(index).csv"
            try FileManager.default.createDirectory(atPath: "\(cluster.work)/data", withIntermediateDirectories: true)
            try Data(DatasetFile.encodeCSV(part)).write(to: URL(fileURLWithPath: path))
            let counts = (0..<10).map { label in part.labels.filter { $0 == label }.count }
            try cluster.addDataset("digits-\(index)", path: path, on: holders[index])
            print("\(holders[index]) holds digits-\(index): \(part.count) samples, per label \(counts)")
        }
        print("held out for the final test: \(test.count) samples")
        // Placement reads the datasets the peers declare: wait until the cloud sees all five.
        cluster.waitForDatasets(parts.count, seenBy: "cloud")

        let spec = Self.spec(model: model, rounds: rounds)
        let specPath = "\(cluster.work)/demo-task.yaml"
        try Data(spec.utf8).write(to: URL(fileURLWithPath: specPath))
        print("\n$ starling task submit demo-task.yaml --peer cloud\n\(spec)")
        print(try cluster.submit(specPath, through: "cloud"))

        // Generous: each round has a 60 s deadline, and a failover adds about 20 s.
        let watch = RoundWatch(cluster: cluster, task: "demo-task", patience: Double(rounds) * 60 + 120,
                               chaosAfter: chaos ? max(1, rounds / 3) : nil,
                               timeoutHint: "; logs are in \(cluster.work)/logs" + (keep ? "" : " (use --keep)"))
        let final = try watch.run().committed.last!.modelHash

        let exportPath = out.hasPrefix("/") ? out : FileManager.default.currentDirectoryPath + "/" + out
        let exporter = try cluster.exportModel(final, to: exportPath)
        let bytes = try POSIXFileRead.read(exportPath)
        let weights = try SafeTensors.decode(bytes)
        let trainer = BuiltinTrainer(kind: model == "mlp" ? .mlp : .logreg, featureCount: 64, classCount: 10)
        let evaluation = try trainer.evaluate(weights, on: test)
        print("\nfinal model (round \(rounds), from \(exporter)): test accuracy \(RoundWatch.fixed(evaluation.accuracy)) "
            + "on \(test.count) held-out samples, test loss \(RoundWatch.fixed(evaluation.loss))")
        print("model exported to \(exportPath) (\(bytes.count) bytes, safetensors)")
        cluster.stopAll()
        print("demo: done; every process it started has stopped")
    }

    /// The cloud (it may submit, and its capacity makes it win most elections) and four edges.
    static let peers = [LocalPeer(name: "cloud", roles: "peer,coordinator,submit,admin", tags: "role=cloud,capacity=10")]
        + (1...4).map { LocalPeer(name: "edge-\($0)", roles: "peer,coordinator", tags: "role=edge") }

    static func spec(model: String, rounds: Int) -> String {
        """
        apiVersion: edgeai.io/v1alpha1
        kind: FederatedTask
        metadata:
          name: demo-task
        spec:
          aggregationWorker:
            name: aggregation-worker
            model:
              name: digits-\(model)
            workerSpec:
              aggregationAlgorithm: FedAvg
              parameters:
                - key: rounds
                  value: \(rounds)
                - key: min_node_number
                  value: 3
                - key: round_timeout
                  value: 30s
                - key: rounds_between_validations
                  value: 1
          trainingWorkers:
            - name: work0
              workerSpec:
                dataset:
                  name: digits-0
                  trainScriptBootFile: builtin:\(model)
                  frameworkType: swift
                parameters:
                  - key: batch_size
                    value: 32
                  - key: learning_rate
                    value: 0.5
                  - key: epochs
                    value: 5
                  - key: num_classes
                    value: 10
            - name: work1
              workerSpec:
                dataset:
                  name: digits-1
            - name: work2
              workerSpec:
                dataset:
                  name: digits-2
            - name: work3
              workerSpec:
                dataset:
                  name: digits-3
            - name: work4
              workerSpec:
                dataset:
                  name: digits-4

        """
    }
}

enum POSIXFileRead {
    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        return [UInt8](data)
    }
}
