import Foundation
import StarlingLearning

enum FederatedTourLimits {
    /// Datasets the edges' training digits are split into (edge-1 holds two).
    static let parts = 5
    static let holders = ["edge-1", "edge-2", "edge-3", "edge-4", "edge-1"]
    /// Each round has a 30 s deadline and a failover adds about 20 s: generous.
    static let roundPatienceSeconds = 60.0
    static let failoverPatienceSeconds = 120.0
}

/// Part 1 of `starling demo`: federated training. The edges' training digits (only the known ones,
/// `TourData`) are split over five datasets by a Dirichlet(α) label skew and kept by the four
/// edges; a FederatedTask in the seed's format (`num_classes: 10`: the model has ten outputs)
/// trains on them with the built-in workers; progress shows as rounds commit. With chaos the
/// coordinator is killed (`kill -9`) midway and another peer takes over. The final model is
/// exported and evaluated here on the held-out digits: all of them, the known and the unseen.
struct FederatedTour {
    let tour: Tour
    let rounds: Int
    /// The task's min_node_number: updates a round waits for.
    let minUpdates: Int
    let alpha: Double
    /// Where to write the final model (absolute).
    let out: String

    func run() throws -> TourOutcome {
        let cluster = tour.cluster, data = tour.data
        printNow("\n== 1. federated learning: the edges train one model together; their data never leaves them")
        let parts = data.edgeParts(FederatedTourLimits.parts, alpha: alpha)
        for (index, part) in parts.enumerated() {
            let path = try tour.write(DatasetFile.encodeCSV(part), "digits-\(index).csv")
            let counts = (0..<10).map { label in part.labels.filter { $0 == label }.count }
            let holder = FederatedTourLimits.holders[index]
            try cluster.addDataset("digits-\(index)", path: path, on: holder)
            printNow("\(holder) holds digits-\(index): \(part.count) samples, per label \(counts)")
        }
        printNow("the edges hold only the digits \(data.knownText)"
            + (data.unknownText.map { "; \($0) appear later (part 3)" } ?? "") + "; held out for testing: \(data.test.count) samples of every digit")
        // Placement reads the datasets the peers declare: wait until the submitting peer sees all five.
        cluster.waitForDatasets(parts.count, seenBy: "cloud-1")

        let spec = Self.spec(model: tour.model.rawValue, rounds: rounds, minUpdates: minUpdates)
        let specPath = try tour.write(Array(spec.utf8), "\(Tour.modelName).yaml")
        printNow("\n$ starling task submit \(Tour.modelName).yaml --peer cloud-1   (a FederatedTask: \(rounds) rounds of FedAvg, "
            + "builtin:\(tour.model.rawValue) workers, num_classes 10, min_node_number \(minUpdates))")
        printNow(try cluster.submit(specPath, through: "cloud-1"))

        let watch = RoundWatch(cluster: cluster, task: Tour.modelName,
                               patience: Double(rounds) * FederatedTourLimits.roundPatienceSeconds + FederatedTourLimits.failoverPatienceSeconds,
                               chaosAfter: tour.chaos ? max(1, rounds / 3) : nil, timeoutHint: tour.logsHint)
        let final = try watch.run().committed.last!.modelHash

        let exporter = try cluster.exportModel(final, to: out)
        let bytes = try POSIXFileRead.read(out)
        let weights = try SafeTensors.decode(bytes)
        let trainer = BuiltinTrainer(kind: tour.model, featureCount: Digits.featureCount, classCount: Digits.classCount)
        let evaluation = try trainer.evaluate(weights, on: data.test)
        let accuracy = try data.accuracy(weights, tour.model)
        let split = data.unknownText.map { " (\(RoundWatch.fixed(accuracy.known)) on \(data.knownText), "
            + "\(RoundWatch.fixed(accuracy.unknown ?? 0)) on \($0))" } ?? ""
        printNow("final model (round \(rounds), from \(exporter)): test accuracy \(RoundWatch.fixed(evaluation.accuracy)) "
            + "on \(data.test.count) held-out samples\(split), test loss \(RoundWatch.fixed(evaluation.loss))")
        printNow("model exported to \(out) (\(bytes.count) bytes, safetensors); the next parts know it by the task's name, \(Tour.modelName)")
        return TourOutcome(part: .federated, before: "no model",
                           after: "\(accuracy.text(data)): the FederatedTask's model after \(rounds) rounds")
    }

    static func spec(model: String, rounds: Int, minUpdates: Int) -> String {
        """
        apiVersion: edgeai.io/v1alpha1
        kind: FederatedTask
        metadata:
          name: \(Tour.modelName)
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
                  value: \(minUpdates)
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
