import Foundation
import StarlingLearning
import StarlingTasks

/// The built-in workers (`trainScriptBootFile: builtin:logreg` or `builtin:mlp`): multinomial
/// logistic regression or a one-hidden-layer MLP trained with minibatch SGD on the worker's local
/// dataset, through the Swift Lib like any other worker. The demo, the tests and anyone without
/// Python use them.
///
/// With `STARLING_ROLE=eval` it evaluates an IncrementalLearningJob's models instead
/// (`WorkerClient.evaluateModels`).
///
/// Parameters: `epochs`, `batch_size`, `learning_rate`, `proximal_mu` (FedProx), and optionally
/// `num_classes` (default: the local data's; set it when a peer may lack some labels) and
/// `hidden_units` (MLP, default 32).
public enum BuiltinWorkerProgram {
    public static func run(kind: BuiltinWorker) throws {
        let client = WorkerClient(context: try WorkerContext.fromEnvironment())
        let context = client.context
        // An IncrementalLearningJob's evaluation worker: the models' widths come from their tensors.
        if try client.evaluateModels({ weights, batch in
            let model = try BuiltinClassifier(kind: kind, weights: weights)
            guard batch.featureCount == model.featureCount else {
                throw WorkerError("the evaluation rows have \(batch.featureCount) features; the model takes \(model.featureCount)")
            }
            return .scores(classCount: model.classCount, values: try model.probabilities(batch.values, count: batch.count))
        }) {
            FileHandle.standardOutput.write(Data("builtin:\(kind.rawValue) evaluated \(context.evaluationModels.keys.sorted().joined(separator: ", "))\n".utf8))
            return
        }
        guard let bytes = FileManager.default.contents(atPath: context.datasetPath) else {
            throw WorkerError("cannot read dataset \(context.datasetName) at \(context.datasetPath)")
        }
        guard let format = DatasetFormat(rawValue: context.datasetFormat) else {
            throw WorkerError("unknown dataset format \(context.datasetFormat)")
        }
        let data = try DatasetFile.decode([UInt8](bytes), format: format)
        let classes = Int(context.number("num_classes", default: Double(data.classCount)))
        let trainer = BuiltinTrainer(kind: kind, featureCount: data.featureCount, classCount: classes,
                                     hiddenUnits: Int(context.number("hidden_units", default: 32)))
        let epochs = Int(context.number("epochs", default: 1))
        let batchSize = Int(context.number("batch_size", default: 32))
        let learningRate = context.number("learning_rate", default: 0.1)
        let proximalMu = context.number("proximal_mu", default: 0)
        if try client.serveEvaluations({ weights in
            let scores = try trainer.evaluate(weights, on: data)
            return ["loss": scores.loss, "accuracy": scores.accuracy]
        }) {
            FileHandle.standardOutput.write(Data("central evaluation done\n".utf8))
            return
        }
        FileHandle.standardOutput.write(Data(("builtin:\(kind.rawValue) worker \(context.worker): \(data.count) samples, "
            + "\(data.featureCount) features, \(classes) classes; \(epochs) epochs of batch \(batchSize) at lr \(learningRate) "
            + "per round\n").utf8))
        while let round = try client.nextRound() {
            let given = try round.globalWeights()
            // A model given to train from fixes the class count (an IncrementalLearningJob's data
            // may lack the labels its deployed model knows, or bring ones it does not yet).
            var trainer = trainer
            if let given, let modelClasses = Self.classes(of: given, layers: kind == .logreg ? 1 : 2), modelClasses >= data.classCount {
                trainer = BuiltinTrainer(kind: kind, featureCount: data.featureCount, classCount: modelClasses,
                                         hiddenUnits: trainer.hiddenUnits)
            }
            let global = given ?? trainer.initialWeights(seed: context.seed)
            var metrics: [String: Double] = [:]
            if round.validate {
                let evaluation = try trainer.evaluate(global, on: data)
                metrics["accuracy"] = evaluation.accuracy
                metrics["val_loss"] = evaluation.loss
            }
            let trained = try trainer.train(global, on: data, epochs: epochs, batchSize: batchSize, learningRate: learningRate,
                                            proximalMu: proximalMu, seed: context.seed &+ round.number)
            metrics["loss"] = trained.loss
            try round.submit(trained.weights, sampleCount: UInt64(data.count), metrics: metrics)
            let accuracy = metrics["accuracy"].map { String(format: ", accuracy of the global model here %.4f", $0) } ?? ""
            // One write per line: stdout is a pipe to the peer's log, so print's buffering would hold lines back.
            FileHandle.standardOutput.write(Data((String(format: "round %llu: training loss %.4f", round.number, trained.loss)
                + accuracy + "\n").utf8))
        }
        FileHandle.standardOutput.write(Data("task done\n".utf8))
    }

    /// The output size of a built-in model's last layer (`dense<layers-1>.bias`), if it has one.
    static func classes(of weights: ModelWeights, layers: Int) -> Int? {
        weights["dense\(layers - 1).bias"]?.shape.first
    }
}
