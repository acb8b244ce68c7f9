import RealModule

/// A built-in model ready to answer class probabilities (an inference worker's `builtin:logreg` or
/// `builtin:mlp`): the layer widths read from the model's own tensors (a serving worker has no
/// dataset to take them from) and its parameters flattened once at load, so scoring a batch copies
/// nothing but the batch.
public struct BuiltinClassifier: Sendable {
    public let trainer: BuiltinTrainer
    let parameters: [Float]

    /// Reads `weights` as a `kind` model: `dense0.weight` [hidden or classes, features], and for the
    /// MLP `dense1.weight` [classes, hidden]; the error names a missing tensor or a wrong shape.
    public init(kind: BuiltinWorker, weights: ModelWeights) throws(LearningError) {
        guard let first = weights["dense0.weight"], first.shape.count == 2 else {
            throw LearningError("a \(kind.rawValue) model needs tensor dense0.weight of shape [outputs, features]")
        }
        let trainer: BuiltinTrainer
        switch kind {
        case .logreg:
            trainer = BuiltinTrainer(kind: kind, featureCount: first.shape[1], classCount: first.shape[0])
        case .mlp:
            guard let second = weights["dense1.weight"], second.shape.count == 2 else {
                throw LearningError("an mlp model needs tensor dense1.weight of shape [classes, hidden units]")
            }
            trainer = BuiltinTrainer(kind: kind, featureCount: first.shape[1], classCount: second.shape[0],
                                     hiddenUnits: first.shape[0])
        }
        parameters = try trainer.flatten(weights)
        guard parameters.allSatisfy(\.isFinite) else { throw LearningError("the \(kind.rawValue) model has values that are not finite") }
        self.trainer = trainer
    }

    public var featureCount: Int { trainer.featureCount }
    public var classCount: Int { trainer.classCount }

    /// Per example, the softmax of the model's logits: `count × classCount` values, row-major, each
    /// row non-negative and summing to 1. `features` holds `count × featureCount` values, row-major.
    public func probabilities(_ features: [Float], count: Int) throws(LearningError) -> [Float] {
        guard count >= 0, features.count == count * featureCount else {
            throw LearningError("\(features.count) feature values are not \(count) examples of \(featureCount) features")
        }
        guard features.allSatisfy(\.isFinite) else { throw LearningError("a feature value is not finite") }
        var output = [Float](repeating: 0, count: count * classCount)
        guard count > 0 else { return output }
        let network = Network(sizes: trainer.sizes, batch: min(count, LearningLimits.predictionBatchRows))
        defer { network.release() }
        features.withUnsafeBufferPointer { input in
            parameters.withUnsafeBufferPointer { weights in
                output.withUnsafeMutableBufferPointer { scores in
                    var start = 0
                    while start < count {
                        let rows = min(network.batch, count - start)
                        network.predict(weights.baseAddress!, input: input.baseAddress! + start * featureCount, rows: rows,
                                        into: scores.baseAddress! + start * classCount)
                        start += rows
                    }
                }
            }
        }
        return output
    }
}

extension BuiltinTrainer {
    /// Class probabilities of `count` examples (`features` row-major) under `weights`: see
    /// `BuiltinClassifier.probabilities`, which a serving loop keeps instead of flattening the
    /// weights for every batch.
    public func probabilities(_ weights: ModelWeights, features: [Float], count: Int) throws(LearningError) -> [Float] {
        try checkShape()
        return try BuiltinClassifier(kind: kind, weights: weights).probabilities(features, count: count)
    }
}

extension Network {
    /// The forward pass of `rows` examples at `input` and the softmax of their logits, written to
    /// `output` (`rows × classes`).
    func predict(_ params: UnsafePointer<Float>, input: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>) {
        precondition(rows <= batch, "a prediction batch is at most the network's batch")
        activations[0].update(from: input, count: rows * sizes[0])
        forward(params, rows: rows)
        let classes = sizes[sizes.count - 1]
        let logits = activations[sizes.count - 1]
        for b in 0..<rows {
            let z = logits + b * classes, p = output + b * classes
            var top = z[0]
            for c in 1..<classes where z[c] > top { top = z[c] }
            var total: Float = 0
            for c in 0..<classes {
                let e = Float.exp(z[c] - top)
                p[c] = e
                total += e
            }
            let inverse = 1 / total
            for c in 0..<classes { p[c] *= inverse }
        }
    }
}
