import StarlingTasks
import Testing

/// Rows split by trainProb: the same on every peer and run, close to the probability, different
/// for different datasets, and countable from a range of row indexes alone.
@Suite struct ArrivalSplitTests {
    @Test func theSplitIsDeterministicAndCloseToTheProbability() {
        let first = ArrivalSplit.rows(.train, dataset: "digits", rows: 0..<10_000, trainProbability: 0.8)
        #expect(first == ArrivalSplit.rows(.train, dataset: "digits", rows: 0..<10_000, trainProbability: 0.8))
        #expect((7_800...8_200).contains(first.count), "\(first.count) of 10,000 at 0.8")
        #expect(ArrivalSplit.rows(.train, dataset: "digits-2", rows: 0..<10_000, trainProbability: 0.8) != first)
        #expect(ArrivalSplit.rows(.train, dataset: "digits", rows: 0..<100, trainProbability: 1) == Array(0..<100))
        let tenth = ArrivalSplit.trainingCount(dataset: "digits", rows: 0..<10_000, trainProbability: 0.1)
        #expect((850...1_150).contains(tenth), "\(tenth)")
    }

    @Test func thePartsPartitionTheRowsAndCountsAddUp() {
        let train = ArrivalSplit.rows(.train, dataset: "d", rows: 0..<2_000, trainProbability: 0.7)
        let eval = ArrivalSplit.rows(.eval, dataset: "d", rows: 0..<2_000, trainProbability: 0.7)
        #expect(Set(train).isDisjoint(with: eval))
        #expect((train + eval).sorted() == Array(0..<2_000))
        // A later range counts only its own rows: what a trigger's num_of_samples adds.
        let whole = ArrivalSplit.trainingCount(dataset: "d", rows: 0..<2_000, trainProbability: 0.7)
        let parts = ArrivalSplit.trainingCount(dataset: "d", rows: 0..<1_234, trainProbability: 0.7)
            + ArrivalSplit.trainingCount(dataset: "d", rows: 1_234..<2_000, trainProbability: 0.7)
        #expect(whole == UInt64(train.count) && parts == whole)
    }
}
