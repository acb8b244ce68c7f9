import StarlingCrypto

/// How a dataset's rows are split into training and evaluation parts (`dataset.trainProb`,
/// docs/tasks.md, "IncrementalLearningJob"): each row by a draw from BLAKE2b of the dataset's name
/// and the row's index in the dataset (the registered file's rows first, then each appended
/// arrival's in order). So every peer and every restart splits the same rows the same way with no
/// state kept, a row never moves from one part to the other, and any peer can count a holder's
/// new training rows from the sizes it gossips, without a row.
public enum ArrivalSplit {
    public enum Part: String, Sendable, Equatable { case train, eval }

    static let context = Array("starling/arrival-split/v2".utf8)

    /// The part of row `row` of `dataset`.
    public static func part(dataset: String, row: UInt64, trainProbability: Double) -> Part {
        precondition(trainProbability > 0 && trainProbability <= 1, "trainProb is in (0, 1] (the spec reader checks it)")
        guard trainProbability < 1 else { return .train }
        var key = context
        key += Array(dataset.utf8) + [0]
        for shift in stride(from: 0, to: 64, by: 8) { key.append(UInt8(truncatingIfNeeded: row >> UInt64(shift))) }
        return ContentHash.of(key).fraction < trainProbability ? .train : .eval
    }

    /// The rows of `rows` that go to `wanted`, in order.
    public static func rows(_ wanted: Part, dataset: String, rows: Range<UInt64>, trainProbability: Double) -> [UInt64] {
        rows.filter { part(dataset: dataset, row: $0, trainProbability: trainProbability) == wanted }
    }

    /// How many of `rows` go to training.
    public static func trainingCount(dataset: String, rows: Range<UInt64>, trainProbability: Double) -> UInt64 {
        guard trainProbability < 1 else { return UInt64(rows.count) }
        var count: UInt64 = 0
        for row in rows where part(dataset: dataset, row: row, trainProbability: trainProbability) == .train { count += 1 }
        return count
    }
}
