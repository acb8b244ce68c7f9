import Foundation
import StarlingLearning

enum TourDataLimits {
    /// The share of the digits held out to measure every model of the tour.
    static let testFraction = 0.2
    /// Rows of known digits the incremental job's dataset is registered with, and rows of every
    /// digit in each batch that arrives later.
    static let incomingBaseRows = 60
    static let incomingBatchRows = 250
    static let incomingBatches = 2
    /// In-process training of the stand-in for the federated model (`--only`) and of the cloud's MLP.
    static let standInEpochs = 20
    static let cloudEpochs = 40
    static let logregLearningRate = 0.5
    static let mlpLearningRate = 0.3
}

/// The digits as the tour uses them: a stratified 80/20 split; the edges' training data holds only
/// the digits below `knownDigits` (so the federated model knows only those classes, though it has
/// ten outputs); the cloud's model learns from all of the training split; the incremental job's
/// dataset starts with a few known digits, and batches of every digit arrive later. Everything is
/// drawn from `seed`, so every part (and every `--only`) sees the same rows.
struct TourData {
    let seed: UInt64
    let knownDigits: Int
    let train: LabeledData
    let test: LabeledData

    init(seed: UInt64, knownDigits: Int) throws {
        precondition((1...Digits.classCount).contains(knownDigits), "known digits are 1 to 10")
        self.seed = seed
        self.knownDigits = knownDigits
        (train, test) = Digits.stratifiedSplit(try Digits.load(), testFraction: TourDataLimits.testFraction, seed: seed)
    }

    /// "0-6" (or "0" for one digit).
    var knownText: String { knownDigits == 1 ? "0" : "0-\(knownDigits - 1)" }
    /// "7-9", or nil when every digit is known.
    var unknownText: String? {
        knownDigits == Digits.classCount ? nil
            : knownDigits == Digits.classCount - 1 ? "9" : "\(knownDigits)-\(Digits.classCount - 1)"
    }

    func isKnown(_ label: Int32) -> Bool { Int(label) < knownDigits }

    /// The training rows the edges hold: the known digits only.
    var edgeTrain: LabeledData { train.subset((0..<train.count).filter { isKnown(train.labels[$0]) }) }

    /// The edges' training rows split over `parts` datasets by a Dirichlet(α) label skew.
    func edgeParts(_ parts: Int, alpha: Double) -> [LabeledData] {
        Digits.dirichletPartition(edgeTrain, parts: parts, alpha: alpha, seed: seed)
    }

    /// The incremental job's dataset as registered (known digits only), then the batches that
    /// arrive (every digit, drawn from the rest of the training split in a seeded order).
    var incoming: (base: LabeledData, batches: [LabeledData]) {
        let known = (0..<train.count).filter { isKnown(train.labels[$0]) }
        let base = Array(known.prefix(TourDataLimits.incomingBaseRows))
        var generator = SeededRandom(seed: seed &+ 7)
        let rest = (0..<train.count).filter { !base.contains($0) }.shuffled(using: &generator)
        let batches = (0..<TourDataLimits.incomingBatches).map { batch in
            train.subset(Array(rest.dropFirst(batch * TourDataLimits.incomingBatchRows).prefix(TourDataLimits.incomingBatchRows)))
        }
        return (train.subset(base), batches)
    }

    /// A model of `kind` trained here on `data` (from the seed), as a worker would.
    func trained(_ kind: BuiltinWorker, on data: LabeledData, epochs: Int) throws -> ModelWeights {
        let trainer = BuiltinTrainer(kind: kind, featureCount: Digits.featureCount, classCount: Digits.classCount)
        let rate = kind == .logreg ? TourDataLimits.logregLearningRate : TourDataLimits.mlpLearningRate
        return try trainer.train(trainer.initialWeights(seed: seed &+ 1), on: data, epochs: epochs, batchSize: 32,
                                 learningRate: rate, proximalMu: 0, seed: seed &+ 2).weights
    }

    /// The stand-in for the federated model (`--only inference|incremental`): trained here on the
    /// edges' training rows, all in one place.
    func standIn(_ kind: BuiltinWorker) throws -> ModelWeights {
        try trained(kind, on: edgeTrain, epochs: TourDataLimits.standInEpochs)
    }

    /// The cloud's bigger model: an MLP on all of the training split.
    func cloudModel() throws -> ModelWeights { try trained(.mlp, on: train, epochs: TourDataLimits.cloudEpochs) }

    /// Accuracy of `weights` (a model of `kind`) on the held-out digits: all, known, unknown.
    func accuracy(_ weights: ModelWeights, _ kind: BuiltinWorker) throws -> TourAccuracy {
        let trainer = BuiltinTrainer(kind: kind, featureCount: Digits.featureCount, classCount: Digits.classCount)
        let known = (0..<test.count).filter { isKnown(test.labels[$0]) }
        let unknown = (0..<test.count).filter { !isKnown(test.labels[$0]) }
        return TourAccuracy(all: try trainer.evaluate(weights, on: test).accuracy,
                            known: try trainer.evaluate(weights, on: test.subset(known)).accuracy,
                            unknown: unknown.isEmpty ? nil : try trainer.evaluate(weights, on: test.subset(unknown)).accuracy)
    }
}

/// Accuracy on the held-out digits, on all of them and on the known and unknown ones apart.
struct TourAccuracy {
    let all: Double
    let known: Double
    let unknown: Double?

    init(all: Double, known: Double, unknown: Double?) {
        self.all = all
        self.known = known
        self.unknown = unknown
    }

    /// From answers (held-out row index, predicted class); nil predictions are wrong.
    init(predicted: [(index: Int, predicted: Int?)], data: TourData) {
        func share(_ rows: [(index: Int, predicted: Int?)]) -> Double {
            rows.isEmpty ? 0 : Double(rows.filter { $0.predicted == Int(data.test.labels[$0.index]) }.count) / Double(rows.count)
        }
        all = share(predicted)
        known = share(predicted.filter { data.isKnown(data.test.labels[$0.index]) })
        unknown = data.unknownText == nil ? nil : share(predicted.filter { !data.isKnown(data.test.labels[$0.index]) })
    }

    /// "0.6630 on all digits (0.9450 on 0-6, 0.0000 on 7-9)".
    func text(_ data: TourData) -> String {
        "\(RoundWatch.fixed(all)) on all digits" + (data.unknownText.map { unknown in
            " (\(RoundWatch.fixed(known)) on \(data.knownText), \(RoundWatch.fixed(self.unknown ?? 0)) on \(unknown))"
        } ?? "")
    }
}
