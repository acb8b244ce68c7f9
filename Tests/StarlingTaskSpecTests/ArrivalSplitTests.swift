import StarlingTasks
import Testing

/// New samples split by trainProb: the same on every peer and run, close to the probability, and
/// different for different rows.
@Suite struct ArrivalSplitTests {
    @Test func theSplitIsDeterministicAndCloseToTheProbability() {
        let first = ArrivalSplit.trainingRows(dataset: "digits", arrival: 3, rows: 10_000, trainProbability: 0.8)
        let again = ArrivalSplit.trainingRows(dataset: "digits", arrival: 3, rows: 10_000, trainProbability: 0.8)
        #expect(first == again)
        #expect((7_800...8_200).contains(first.count), "\(first.count) of 10,000 at 0.8")
        let other = ArrivalSplit.trainingRows(dataset: "digits", arrival: 4, rows: 10_000, trainProbability: 0.8)
        #expect(other != first, "another arrival draws anew")
        let renamed = ArrivalSplit.trainingRows(dataset: "digits-2", arrival: 3, rows: 10_000, trainProbability: 0.8)
        #expect(renamed != first)
        #expect(ArrivalSplit.trainingRows(dataset: "digits", arrival: 1, rows: 100, trainProbability: 1) == Array(0..<100))
        let tenth = ArrivalSplit.trainingRows(dataset: "digits", arrival: 1, rows: 10_000, trainProbability: 0.1).count
        #expect((850...1_150).contains(tenth), "\(tenth)")
    }
}
