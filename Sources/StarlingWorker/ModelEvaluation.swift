import Foundation
import StarlingLearning
import StarlingTasks
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a model predicts for a batch of examples: a class per example, or per example
/// `classCount` scores (row-major) whose largest (the first of equals) is the class.
public enum ModelPredictions: Sendable, Equatable {
    case classes([Int])
    case scores(classCount: Int, values: [Float])
}

/// An IncrementalLearningJob's evaluation workers in the Swift Lib (docs/workers.md, "Evaluation
/// workers (IncrementalLearningJob)"): a process its peer started with `STARLING_ROLE=eval` predicts
/// the peer's evaluation rows with each model of `STARLING_EVAL_MODELS`, writes one confusion matrix
/// per model into `STARLING_EVAL_OUTPUT`, and is done; as the Python Lib's `starling.evaluate(predict)`.
///
///     if try worker.evaluateModels({ weights, batch in .scores(classCount: 10, values: ...) }) { return }
///     while let round = try worker.nextRound() { ... }
extension WorkerClient {
    /// The `STARLING_ROLE` of an evaluation worker.
    public static let modelEvaluatorRole = "eval"

    public var isModelEvaluator: Bool { context.role == Self.modelEvaluatorRole }

    /// In an evaluation worker: reads the evaluation rows (`STARLING_DATASET_PATH`), and for each model
    /// its weights, calls `predict` with them and every row's features, builds the confusion matrix
    /// (classes: the largest label or prediction + 1) and writes the result file atomically; returns
    /// true. A model `predict` throws on (or whose predictions are malformed) throws, naming the
    /// model, and no result is written: the process should exit non-zero with it on standard error.
    /// In any other process it returns false at once.
    public func evaluateModels(_ predict: (ModelWeights, ServingBatch) throws -> ModelPredictions) throws -> Bool {
        guard isModelEvaluator else { return false }
        guard let bytes = FileManager.default.contents(atPath: context.datasetPath) else {
            throw WorkerError("cannot read the evaluation rows at \(context.datasetPath)")
        }
        guard let format = DatasetFormat(rawValue: context.datasetFormat) else {
            throw WorkerError("unknown dataset format \(context.datasetFormat)")
        }
        let data = try DatasetFile.decode([UInt8](bytes), format: format)
        let batch = ServingBatch(count: data.count, featureCount: data.featureCount, values: data.features)
        let truth = data.labels.map(Int.init)
        var matrices: [String: ConfusionMatrix] = [:]
        for (name, path) in context.evaluationModels.sorted(by: { $0.key < $1.key }) {
            do {
                guard let model = FileManager.default.contents(atPath: path) else { throw WorkerError("cannot read \(path)") }
                let predicted = try ModelEvaluation.classes(of: try predict(try SafeTensors.decode([UInt8](model)), batch),
                                                            count: data.count)
                matrices[name] = try ModelEvaluation.confusion(truth: truth, predicted: predicted)
            } catch {
                throw WorkerError("model \(name): \(error)")
            }
        }
        try ModelEvaluation.write(matrices, to: context.evaluationOutput)
        return true
    }
}

/// The pieces of `evaluateModels`, on their own for tests and for programs that predict elsewhere.
public enum ModelEvaluation {
    /// Classes one matrix may have (the peer refuses more: `ModelEvaluationLimits.classesMax`).
    public static let classesMax = 256

    /// The class of each of `count` examples: the classes as given, or each row's largest score.
    public static func classes(of predictions: ModelPredictions, count: Int) throws -> [Int] {
        switch predictions {
        case let .classes(classes):
            guard classes.count == count else { throw WorkerError("\(classes.count) predictions for \(count) examples") }
            if let bad = classes.first(where: { $0 < 0 }) { throw WorkerError("predicted class \(bad) is negative") }
            return classes
        case let .scores(classCount, values):
            guard classCount > 0, values.count == count * classCount else {
                throw WorkerError("\(values.count) scores are not \(count) examples of \(max(classCount, 0)) classes")
            }
            guard values.allSatisfy(\.isFinite) else { throw WorkerError("a score is not finite") }
            return (0..<count).map { row in
                let scores = values[(row * classCount)..<((row + 1) * classCount)]
                return scores.indices.max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) }! - row * classCount
            }
        }
    }

    /// The matrix of `truth` against `predicted`, of the largest label or prediction + 1 classes.
    public static func confusion(truth: [Int], predicted: [Int]) throws -> ConfusionMatrix {
        precondition(truth.count == predicted.count, "one prediction per row")
        let classes = (truth + predicted).max().map { $0 + 1 } ?? 0
        guard classes <= classesMax else {
            throw WorkerError("class \(classes - 1) is beyond the \(classesMax) classes an evaluation may have")
        }
        return ConfusionMatrix(truth: truth, predicted: predicted, classes: classes)
    }

    /// `{"models": {NAME: {"confusion": [[counts]]}}}`, row t column p counting rows of class t predicted p.
    public static func resultJSON(_ matrices: [String: ConfusionMatrix]) -> [UInt8] {
        struct Model: Encodable { let confusion: [[UInt64]] }
        struct File: Encodable { let models: [String: Model] }
        let file = File(models: matrices.mapValues { matrix in
            Model(confusion: (0..<matrix.classes).map { truth in
                (0..<matrix.classes).map { matrix.count(truth: truth, predicted: $0) }
            })
        })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Arrays of integers and string keys always encode.
        return [UInt8](try! encoder.encode(file))
    }

    /// Writes the result file atomically: a temporary file next to it, renamed over it.
    public static func write(_ matrices: [String: ConfusionMatrix], to path: String) throws {
        guard !path.isEmpty else { throw WorkerError("STARLING_EVAL_OUTPUT is empty") }
        let partial = path + ".partial"
        guard FileManager.default.createFile(atPath: partial, contents: Data(resultJSON(matrices))) else {
            throw WorkerError("cannot write the result file \(partial)")
        }
        guard rename(partial, path) == 0 else {
            throw WorkerError("cannot rename \(partial) to \(path): \(String(cString: strerror(errno)))")
        }
    }
}
