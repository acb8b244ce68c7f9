import Foundation
import StarlingLearning
import StarlingTasks
@testable import StarlingWorker
import Testing

/// The Swift Lib's evaluation workers (docs/workers.md, "Evaluation workers (IncrementalLearningJob)"):
/// the environment read, predictions turned into confusion matrices, the result file written.
struct ModelEvaluationTests {
    static func environment(role: String, directory: String, extra: [String: String] = [:]) -> [String: String] {
        [
            "STARLING_SOCKET": "\(directory)/peer.sock", "STARLING_TASK": String(repeating: "ab", count: 32),
            "STARLING_TASK_NAME": "job", "STARLING_WORKER": "eval", "STARLING_WORKER_TOKEN": "k",
            "STARLING_DATASET": "digits", "STARLING_DATASET_PATH": "\(directory)/rows.csv", "STARLING_DATASET_FORMAT": "csv",
            "STARLING_WORK_DIR": directory, "STARLING_PARAMETERS": "{}", "STARLING_SEED": "1", "STARLING_ROLE": role,
        ].merging(extra) { _, new in new }
    }

    static func directory() -> String {
        let path = NSTemporaryDirectory() + "starling-eval-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func theContextReadsTheModelsAndTheOutput() throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let context = try WorkerContext.fromEnvironment(Self.environment(role: "eval", directory: directory, extra: [
            "STARLING_EVAL_MODELS": #"{"candidate": "/m/c.safetensors", "deployed": "/m/d.safetensors"}"#,
            "STARLING_EVAL_OUTPUT": "/out/result.json"]))
        #expect(context.evaluationModels == ["candidate": "/m/c.safetensors", "deployed": "/m/d.safetensors"])
        #expect(context.evaluationOutput == "/out/result.json")
        #expect(WorkerClient(context: context).isModelEvaluator)
        #expect { _ = try WorkerClient(context: context).nextRound() } throws: { "\($0)".contains("call evaluateModels before nextRound") }
        #expect(throws: WorkerError.self) {
            try WorkerContext.fromEnvironment(Self.environment(role: "eval", directory: directory, extra: [
                "STARLING_EVAL_MODELS": "[1]", "STARLING_EVAL_OUTPUT": "/out/result.json"]))
        }
        #expect(throws: WorkerError.self) {
            try WorkerContext.fromEnvironment(Self.environment(role: "eval", directory: directory, extra: [
                "STARLING_EVAL_MODELS": #"{"c": "/m"}"#]))
        }
        let trainer = try WorkerContext.fromEnvironment(Self.environment(role: "train", directory: directory))
        #expect(trainer.evaluationModels.isEmpty)
        #expect(try !WorkerClient(context: trainer).evaluateModels { _, _ in .classes([]) }, "a training worker goes on at once")
    }

    @Test func classesComeAsGivenOrAsTheLargestScore() throws {
        #expect(try ModelEvaluation.classes(of: .classes([2, 0, 1]), count: 3) == [2, 0, 1])
        #expect(try ModelEvaluation.classes(of: .scores(classCount: 3, values: [0.1, 0.7, 0.2, 0.5, 0.5, 0, 0, 0, 1]), count: 3) == [1, 0, 2])
        #expect(throws: WorkerError.self) { try ModelEvaluation.classes(of: .classes([1]), count: 2) }
        #expect(throws: WorkerError.self) { try ModelEvaluation.classes(of: .classes([-1]), count: 1) }
        #expect(throws: WorkerError.self) { try ModelEvaluation.classes(of: .scores(classCount: 2, values: [1, 2, 3]), count: 2) }
        #expect(throws: WorkerError.self) { try ModelEvaluation.classes(of: .scores(classCount: 1, values: [.nan]), count: 1) }
        #expect(throws: WorkerError.self) { try ModelEvaluation.confusion(truth: [0], predicted: [ModelEvaluation.classesMax]) }
        #expect(try ModelEvaluation.confusion(truth: [0, 1], predicted: [3, 1])
            == ConfusionMatrix(truth: [0, 1], predicted: [3, 1], classes: 4))
    }

    @Test func theResultIsWhatThePeerReads() throws {
        let matrix = ConfusionMatrix(truth: [0, 0, 1], predicted: [0, 1, 1], classes: 2)
        #expect(String(decoding: ModelEvaluation.resultJSON(["candidate": matrix, "deployed": .empty]), as: UTF8.self)
            == #"{"models":{"candidate":{"confusion":[[1,1],[0,1]]},"deployed":{"confusion":[]}}}"#)
    }

    @Test func evaluateModelsWritesEachModelsMatrix() throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("f0,f1,label\n1,0,0\n0,1,1\n1,1,1\n0,0,2\n".utf8).write(to: URL(fileURLWithPath: "\(directory)/rows.csv"))
        for name in ["first", "second"] {
            let weights = try ModelWeights(tensors: [try Tensor(name: "which", shape: [1], values: [name == "first" ? 0 : 1])])
            try Data(SafeTensors.encode(weights)).write(to: URL(fileURLWithPath: "\(directory)/\(name).safetensors"))
        }
        let output = "\(directory)/result.json"
        let client = WorkerClient(context: try WorkerContext.fromEnvironment(Self.environment(role: "eval", directory: directory, extra: [
            "STARLING_EVAL_MODELS": #"{"first": "\#(directory)/first.safetensors", "second": "\#(directory)/second.safetensors"}"#,
            "STARLING_EVAL_OUTPUT": output])))
        let evaluated = try client.evaluateModels { weights, batch in
            #expect(batch.count == 4 && batch.featureCount == 2)
            // first: the first feature's class; second: always class 1, as scores.
            if weights["which"]?.values == [0] { return .classes((0..<batch.count).map { batch.values[$0 * 2] > 0 ? 0 : 1 }) }
            return .scores(classCount: 2, values: Array(repeating: [0.2, 0.8], count: batch.count).flatMap { $0 })
        }
        #expect(evaluated)
        let text = try String(contentsOfFile: output, encoding: .utf8)
        #expect(text == #"{"models":{"first":{"confusion":[[1,0,0],[1,1,0],[0,1,0]]},"second":{"confusion":[[0,1,0],[0,2,0],[0,1,0]]}}}"#)
        #expect(!FileManager.default.fileExists(atPath: output + ".partial"))

        // A predict that throws names its model, and no result is written.
        try FileManager.default.removeItem(atPath: output)
        #expect {
            _ = try client.evaluateModels { _, _ in throw WorkerError("shapes do not match") }
        } throws: { "\($0)".contains("model first: shapes do not match") }
        #expect(!FileManager.default.fileExists(atPath: output))
    }
}
