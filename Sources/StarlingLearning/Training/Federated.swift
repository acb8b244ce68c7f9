/// A federated simulation on the digits data, for tests and `starling-bench digits`: stratified 80/20
/// split (seed 0), the training part split over `peers` by Dirichlet(`alpha`) labels, every round
/// each peer trains `localEpochs` from the global model and the updates are aggregated by
/// `RoundAggregator` with their sample counts.
public enum Federated {
    /// Test accuracy of the final global model.
    public static func run(kind: BuiltinWorker, algorithm: AggregationAlgorithm, parameters: [String: Double] = [:], hiddenUnits: Int = 32,
                           peers: Int = 5, alpha: Double = 0.5, rounds: Int, localEpochs: Int, batchSize: Int = 32,
                           learningRate: Double? = nil, proximalMu: Double, seed: UInt64 = 0) throws(LearningError) -> Double {
        let (train, test) = Digits.stratifiedSplit(try Digits.load(), testFraction: 0.2, seed: seed)
        let parts = Digits.dirichletPartition(train, parts: peers, alpha: alpha, seed: seed &+ 1)
        let trainer = BuiltinTrainer(kind: kind, featureCount: train.featureCount, classCount: train.classCount, hiddenUnits: hiddenUnits)
        let rate = learningRate ?? (kind == .logreg ? 0.5 : 0.3)
        var global = trainer.initialWeights(seed: seed)
        var state: ServerOptimizerState?
        let settings = AggregationSettings(algorithm: algorithm, parameters: parameters)
        for round in 0..<rounds {
            var aggregator = RoundAggregator(settings: settings, base: global, state: state)
            for (index, part) in parts.enumerated() {
                let (weights, loss) = try trainer.train(global, on: part, epochs: localEpochs, batchSize: batchSize, learningRate: rate,
                                                        proximalMu: proximalMu, seed: seed &+ UInt64(round * 1000 + index))
                do {
                    try aggregator.add(weights, sampleCount: UInt64(part.count), metrics: ["loss": loss])
                } catch {
                    throw LearningError("round \(round), peer \(index): \(error.reason)")
                }
            }
            let result = try aggregator.finish()
            global = result.model
            state = result.state
        }
        return try trainer.evaluate(global, on: test).accuracy
    }
}
