/// What an evaluation worker reports for one model on a peer's evaluation rows: `counts[t * classes + p]`
/// rows of true class t predicted as p. Peers' matrices add up to the matrix of all their rows, so
/// a job's metrics over several peers are exact, and no row leaves its peer.
public struct ConfusionMatrix: Sendable, Hashable {
    public let classes: Int
    /// Row-major, `classes * classes` counts.
    public let counts: [UInt64]

    public init(classes: Int, counts: [UInt64]) {
        precondition(classes >= 0 && counts.count == classes * classes, "a confusion matrix is square")
        self.classes = classes
        self.counts = counts
    }

    /// The matrix of `truth` against `predicted` (labels below `classes`).
    public init(truth: [Int], predicted: [Int], classes: Int) {
        precondition(truth.count == predicted.count, "one prediction per row")
        var counts = [UInt64](repeating: 0, count: classes * classes)
        for (label, guess) in zip(truth, predicted) {
            precondition((0..<classes).contains(label) && (0..<classes).contains(guess), "labels are below the class count")
            counts[label * classes + guess] += 1
        }
        self.init(classes: classes, counts: counts)
    }

    public static let empty = ConfusionMatrix(classes: 0, counts: [])

    public func count(truth: Int, predicted: Int) -> UInt64 { counts[truth * classes + predicted] }

    /// Rows counted.
    public var total: UInt64 { counts.reduce(0, +) }

    /// The sum of two peers' matrices (the smaller one padded with classes it never saw).
    public func adding(_ other: ConfusionMatrix) -> ConfusionMatrix {
        let size = max(classes, other.classes)
        var sum = [UInt64](repeating: 0, count: size * size)
        for matrix in [self, other] {
            for truth in 0..<matrix.classes {
                for guess in 0..<matrix.classes { sum[truth * size + guess] += matrix.count(truth: truth, predicted: guess) }
            }
        }
        return ConfusionMatrix(classes: size, counts: sum)
    }

    /// accuracy, and precision, recall and f1 per class with their macro averages over the classes
    /// that occur (as truth or as prediction; as scikit-learn averages), plus `num_of_samples`.
    public var metrics: [String: MetricValue] {
        var precision: [Double] = [], recall: [Double] = [], f1: [Double] = []
        var occurring: [Int] = []
        var correct: UInt64 = 0
        for index in 0..<classes {
            let hits = count(truth: index, predicted: index)
            correct += hits
            var asTruth: UInt64 = 0, asPrediction: UInt64 = 0
            for other in 0..<classes {
                asTruth += count(truth: index, predicted: other)
                asPrediction += count(truth: other, predicted: index)
            }
            let p = asPrediction == 0 ? 0 : Double(hits) / Double(asPrediction)
            let r = asTruth == 0 ? 0 : Double(hits) / Double(asTruth)
            precision.append(p)
            recall.append(r)
            f1.append(p + r == 0 ? 0 : 2 * p * r / (p + r))
            if asTruth + asPrediction > 0 { occurring.append(index) }
        }
        func macro(_ values: [Double]) -> Double? {
            occurring.isEmpty ? nil : occurring.reduce(0) { $0 + values[$1] } / Double(occurring.count)
        }
        let rows = total
        return [
            "accuracy": MetricValue(rows == 0 ? nil : Double(correct) / Double(rows)),
            "precision": MetricValue(macro(precision), perClass: precision),
            "recall": MetricValue(macro(recall), perClass: recall),
            "f1": MetricValue(macro(f1), perClass: f1),
            "num_of_samples": MetricValue(Double(rows)),
        ]
    }
}

extension MetricValue {
    /// `<metric>_delta` for every metric both sides have: candidate − deployed, value and per class
    /// (classes one side lacks count as 0 there).
    public static func deltas(candidate: [String: MetricValue], deployed: [String: MetricValue]) -> [String: MetricValue] {
        var deltas: [String: MetricValue] = [:]
        for (name, new) in candidate {
            guard let old = deployed[name] else { continue }
            let value = new.value.flatMap { new in old.value.map { new - $0 } }
            let size = max(new.perClass.count, old.perClass.count)
            let perClass = (0..<size).map { index in
                (index < new.perClass.count ? new.perClass[index] : 0) - (index < old.perClass.count ? old.perClass[index] : 0)
            }
            deltas[name + "_delta"] = MetricValue(value, perClass: perClass)
        }
        return deltas
    }
}
