import Foundation
import StarlingLearning

/// The built-in models served (`builtin:logreg`, `builtin:mlp` with `STARLING_ROLE` edge or cloud):
/// each load reads the safetensors file a built-in trainer writes (its layer widths from its
/// tensors), each batch gets the model's class probabilities. No Python, no dataset.
public enum BuiltinServingProgram {
    public static func run(kind: BuiltinWorker) throws {
        let client = WorkerClient(context: try WorkerContext.fromEnvironment())
        let context = client.context
        say("builtin:\(kind.rawValue) inference worker \(context.worker): serving \(context.service) as \(context.role)")
        try client.serve(load: { path in
            guard let bytes = FileManager.default.contents(atPath: path) else { throw WorkerError("cannot read \(path)") }
            let model = try BuiltinClassifier(kind: kind, weights: try SafeTensors.decode([UInt8](bytes)))
            say("loaded \(path): \(model.featureCount) features, \(model.classCount) classes")
            return model
        }, predict: { model, batch in
            guard batch.featureCount == model.featureCount else {
                throw WorkerError("the examples have \(batch.featureCount) features; the model takes \(model.featureCount)")
            }
            return ServingScores(classCount: model.classCount, values: try model.probabilities(batch.values, count: batch.count))
        })
        say("serving done")
    }

    /// One write per line: stdout is a pipe to the peer's log, so print's buffering would hold lines back.
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
