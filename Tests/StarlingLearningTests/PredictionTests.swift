import Foundation
@testable import StarlingLearning
import Testing

@Suite("built-in models answering class probabilities (inference workers)")
struct PredictionTests {
    static func trained(_ kind: BuiltinWorker, epochs: Int = 5) throws -> (BuiltinTrainer, ModelWeights, LabeledData) {
        let (train, test) = Digits.stratifiedSplit(try Digits.load(), testFraction: 0.2, seed: 0)
        let trainer = BuiltinTrainer(kind: kind, featureCount: 64, classCount: 10)
        let (weights, _) = try trainer.train(trainer.initialWeights(seed: 3), on: train, epochs: epochs, batchSize: 32,
                                             learningRate: 0.3, proximalMu: 0, seed: 0)
        return (trainer, weights, test)
    }

    /// The first index of the largest value, as `evaluate` picks its class.
    static func argmax(_ row: ArraySlice<Float>) -> Int {
        var best = row.startIndex
        for index in row.indices where row[index] > row[best] { best = index }
        return best - row.startIndex
    }

    @Test("probabilities are non-negative and sum to 1; their argmax scores evaluate's accuracy (logreg and mlp)",
          arguments: BuiltinWorker.allCases)
    func probabilitiesMatchEvaluate(kind: BuiltinWorker) throws {
        let (trainer, weights, test) = try Self.trained(kind)
        let scores = try trainer.probabilities(weights, features: test.features, count: test.count)
        #expect(scores.count == test.count * 10)
        var correct = 0
        for example in 0..<test.count {
            let row = scores[(example * 10)..<(example * 10 + 10)]
            #expect(row.allSatisfy { $0 >= 0 && $0 <= 1 })
            #expect(abs(row.reduce(0, +) - 1) < 1e-5)
            if Self.argmax(row) == Int(test.labels[example]) { correct += 1 }
        }
        let accuracy = try trainer.evaluate(weights, on: test).accuracy
        #expect(Double(correct) / Double(test.count) == accuracy)
        #expect(accuracy > 0.85)
    }

    @Test("the classifier reads its widths from the tensors and names a model of another kind or shape")
    func classifierFromTensors() throws {
        let mlp = BuiltinTrainer(kind: .mlp, featureCount: 5, classCount: 3, hiddenUnits: 7)
        let classifier = try BuiltinClassifier(kind: .mlp, weights: mlp.initialWeights(seed: 1))
        #expect(classifier.featureCount == 5 && classifier.classCount == 3 && classifier.trainer.hiddenUnits == 7)
        let logreg = BuiltinTrainer(kind: .logreg, featureCount: 4, classCount: 2).initialWeights(seed: 1)
        #expect(throws: LearningError("an mlp model needs tensor dense1.weight of shape [classes, hidden units]")) {
            try BuiltinClassifier(kind: .mlp, weights: logreg)
        }
        #expect(throws: LearningError("logreg has 2 tensors, the model 4")) {
            try BuiltinClassifier(kind: .logreg, weights: mlp.initialWeights(seed: 1))
        }
        // Zero weights: every class equally likely; no examples: no scores.
        let uniform = try BuiltinClassifier(kind: .logreg, weights: logreg)
        #expect(try uniform.probabilities([1, 2, 3, 4], count: 1) == [0.5, 0.5])
        #expect(try uniform.probabilities([], count: 0) == [])
        #expect(throws: LearningError("3 feature values are not 1 examples of 4 features")) {
            try uniform.probabilities([1, 2, 3], count: 1)
        }
        #expect(throws: LearningError("a feature value is not finite")) { try uniform.probabilities([1, .nan, 3, 4], count: 1) }
    }

    @Test("more examples than one pass takes are scored in passes, the same as one by one")
    func passes() throws {
        let (trainer, weights, test) = try Self.trained(.mlp, epochs: 1)
        let classifier = try BuiltinClassifier(kind: .mlp, weights: weights)
        #expect(test.count > LearningLimits.predictionBatchRows)
        let all = try classifier.probabilities(test.features, count: test.count)
        for example in [0, 255, 256, test.count - 1] {
            let one = try classifier.probabilities(Array(test.features[(example * 64)..<(example * 64 + 64)]), count: 1)
            #expect(Array(all[(example * 10)..<(example * 10 + 10)]) == one)
        }
        _ = trainer
    }

    @Test("a batch of 64 digits through the MLP takes well under a millisecond (a loose bound in debug builds)")
    func speed() throws {
        let (_, weights, test) = try Self.trained(.mlp, epochs: 1)
        let classifier = try BuiltinClassifier(kind: .mlp, weights: weights)
        let batch = Array(test.features.prefix(64 * 64))
        _ = try classifier.probabilities(batch, count: 64)
        let clock = ContinuousClock()
        let rounds = 50
        let elapsed = try clock.measure { for _ in 0..<rounds { _ = try classifier.probabilities(batch, count: 64) } }
        let each = elapsed / rounds
        #if DEBUG
        #expect(each < .milliseconds(20), "\(each) per batch of 64")
        #else
        #expect(each < .milliseconds(1), "\(each) per batch of 64")
        #endif
    }
}
