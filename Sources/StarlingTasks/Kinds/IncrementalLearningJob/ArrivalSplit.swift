import StarlingCrypto

/// How samples that arrive at an edge are split into training and evaluation parts
/// (`dataset.trainProb`, docs/tasks.md, "IncrementalLearningJob"): each row by a draw from
/// BLAKE2b of the dataset's name, the arrival's sequence number and the row's index, so every peer
/// and every restart splits the same rows the same way, with no state kept, and a row never moves
/// from one part to the other.
public enum ArrivalSplit {
    public enum Part: Sendable, Equatable { case train, eval }

    static let context = Array("starling/arrival-split/v1".utf8)

    /// The part of row `row` of arrival `arrival` of `dataset`.
    public static func part(dataset: String, arrival: UInt64, row: UInt64, trainProbability: Double) -> Part {
        precondition(trainProbability > 0 && trainProbability <= 1, "trainProb is in (0, 1] (the spec reader checks it)")
        guard trainProbability < 1 else { return .train }
        var key = context
        key += Array(dataset.utf8) + [0]
        for value in [arrival, row] { for shift in stride(from: 0, to: 64, by: 8) { key.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) } }
        return ContentHash.of(key).fraction < trainProbability ? .train : .eval
    }

    /// The rows of an arrival of `rows` samples that go to training, in order.
    public static func trainingRows(dataset: String, arrival: UInt64, rows: Int, trainProbability: Double) -> [Int] {
        (0..<rows).filter { part(dataset: dataset, arrival: arrival, row: UInt64($0), trainProbability: trainProbability) == .train }
    }
}
