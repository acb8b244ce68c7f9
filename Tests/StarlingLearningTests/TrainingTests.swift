import Foundation
@testable import StarlingLearning
import StarlingTasks
import Testing

@Suite("built-in training and the digits data")
struct TrainingTests {
    @Test("the embedded digits equal data/digits/digits.csv.gz: 1,797 rows, 64 features in [0, 1], 10 classes")
    func digitsData() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("data/digits/digits.csv.gz")
        let onDisk = [UInt8](try Data(contentsOf: file))
        #expect(try Digits.embeddedGzip() == onDisk)
        let data = try Digits.load()
        #expect(data.count == 1_797 && data.featureCount == 64 && data.classCount == 10)
        #expect(data.features.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(Set(data.labels) == Set(0..<10))
    }

    @Test("splits: stratified 80/20 keeps class proportions; Dirichlet parts are non-empty, disjoint, complete and deterministic")
    func splits() throws {
        let data = try Digits.load()
        let (train, test) = Digits.stratifiedSplit(data, testFraction: 0.2, seed: 0)
        #expect(train.count + test.count == data.count)
        #expect(abs(test.count - 360) <= 5)
        for label in Int32(0)..<10 {
            let share = Double(test.labels.filter { $0 == label }.count) / Double(data.labels.filter { $0 == label }.count)
            #expect(abs(share - 0.2) < 0.02)
        }
        let parts = Digits.dirichletPartition(train, parts: 5, alpha: 0.5, seed: 1)
        #expect(parts.count == 5 && parts.allSatisfy { $0.count > 0 })
        #expect(parts.reduce(0) { $0 + $1.count } == train.count)
        #expect(parts == Digits.dirichletPartition(train, parts: 5, alpha: 0.5, seed: 1))
        // Label skew: some part misses some class or is dominated by few.
        #expect(parts.contains { part in Set(part.labels).count < 10 || part.labels.count < train.count / 10 })
        let tiny = Digits.dirichletPartition(test.subset([0, 1, 2]), parts: 3, alpha: 0.01, seed: 2)
        #expect(tiny.allSatisfy { $0.count == 1 })
    }

    @Test("weights: deterministic from the seed, PyTorch layout, checked against the model")
    func weights() throws {
        let mlp = BuiltinTrainer(kind: .mlp, featureCount: 64, classCount: 10)
        let w = mlp.initialWeights(seed: 5)
        #expect(w == mlp.initialWeights(seed: 5) && w != mlp.initialWeights(seed: 6))
        #expect(w.tensors.map(\.name) == ["dense0.bias", "dense0.weight", "dense1.bias", "dense1.weight"])
        #expect(w["dense0.weight"]?.shape == [32, 64] && w["dense1.weight"]?.shape == [10, 32])
        let logreg = BuiltinTrainer(kind: .logreg, featureCount: 64, classCount: 10)
        #expect(logreg.initialWeights(seed: 1).parameterCount == 650)
        let data = try LabeledData(features: [0, 1], labels: [1], featureCount: 2, classCount: 2)
        #expect(throws: LearningError.self) { try logreg.evaluate(w, on: data) }
        #expect(throws: LearningError.self) { try logreg.evaluate(logreg.initialWeights(seed: 1), on: data) }
    }

    @Test("logreg on digits, central (80/20, seed 0, 50 epochs, lr 0.5, batch 32): ≥ 0.93 test accuracy")
    func centralLogreg() throws {
        let (train, test) = Digits.stratifiedSplit(try Digits.load(), testFraction: 0.2, seed: 0)
        let trainer = BuiltinTrainer(kind: .logreg, featureCount: 64, classCount: 10)
        let (weights, loss) = try trainer.train(trainer.initialWeights(seed: 0), on: train, epochs: 50, batchSize: 32,
                                                learningRate: 0.5, proximalMu: 0, seed: 0)
        let (testLoss, accuracy) = try trainer.evaluate(weights, on: test)
        print("digits logreg central: train loss \(loss), test loss \(testLoss), test accuracy \(accuracy)")
        #expect(accuracy >= 0.93)
        #expect(loss < testLoss + 0.5)
    }

    @Test("MLP 64-32-10 on digits, central (80/20, seed 0, 15 epochs, lr 0.3): ≥ 0.93 (release, 50 epochs: starling-bench digits)")
    func centralMLP() throws {
        let (train, test) = Digits.stratifiedSplit(try Digits.load(), testFraction: 0.2, seed: 0)
        let trainer = BuiltinTrainer(kind: .mlp, featureCount: 64, classCount: 10)
        let (weights, _) = try trainer.train(trainer.initialWeights(seed: 0), on: train, epochs: 15, batchSize: 32,
                                             learningRate: 0.3, proximalMu: 0, seed: 0)
        let accuracy = try trainer.evaluate(weights, on: test).accuracy
        print("digits mlp central (15 epochs): test accuracy \(accuracy)")
        #expect(accuracy >= 0.93)
    }

    @Test("federated logreg on digits: Dirichlet(0.5) over 5 peers, 10 rounds × 5 local epochs, FedAvg")
    func federatedLogreg() throws {
        let accuracy = try Federated.run(kind: .logreg, algorithm: .fedAvg, rounds: 10, localEpochs: 5, proximalMu: 0)
        print("digits logreg federated (FedAvg, Dirichlet 0.5, 5 peers, 10 × 5): test accuracy \(accuracy)")
        #expect(accuracy >= 0.92)
    }

    @Test("FedProx's proximal term keeps local weights nearer the global model")
    func proximal() throws {
        let data = Digits.dirichletPartition(try Digits.load(), parts: 5, alpha: 0.5, seed: 3)[0]
        let trainer = BuiltinTrainer(kind: .mlp, featureCount: 64, classCount: 10, hiddenUnits: 8)
        let start = trainer.initialWeights(seed: 1)
        func distance(_ mu: Double) throws -> Double {
            let trained = try trainer.train(start, on: data, epochs: 2, batchSize: 32, learningRate: 0.1, proximalMu: mu, seed: 4).weights
            var total = 0.0
            for (a, b) in zip(trained.tensors, start.tensors) {
                for (x, y) in zip(a.values, b.values) { total += Double((x - y) * (x - y)) }
            }
            return total
        }
        let near = try distance(1.0), far = try distance(0)
        #expect(near < far)
    }
}
