@testable import StarlingLearning
import Testing

/// The hard-example miners (Sedna's rules), their construction from a spec's name and parameters,
/// and their verdicts on bad scores.
@Suite struct HardExampleMinerTests {
    static let key: [UInt8] = Array("request-1".utf8)

    func miner(_ name: String, _ parameters: [(String, String?)] = [], seed: UInt64 = 0) throws -> HardExampleMiner {
        try HardExampleMiner(name: name, parameters: parameters.map { (key: $0.0, value: $0.1) }, seed: seed)
    }

    func verdict(_ miner: HardExampleMiner, classes: [Float]) -> HardExampleVerdict { miner.verdict(.classes(classes), key: Self.key) }
    func verdict(_ miner: HardExampleMiner, boxes: [Float]) -> HardExampleVerdict { miner.verdict(.boxes(boxes), key: Self.key) }

    // MARK: Construction

    @Test func defaultsAreSednas() throws {
        #expect(try miner("Threshold") == .threshold(0.5))
        #expect(try miner("CrossEntropy") == .crossEntropy(0.5))
        #expect(try miner("IBT") == .ibt(thresholdImage: 0.5, thresholdBox: 0.5))
        #expect(try miner("Random", seed: 7) == .random(ratio: 0.3, seed: 7))
        #expect(try miner("CloudOnly") == .cloudOnly)
        #expect(try miner("EdgeOnly") == .edgeOnly)
        // A parameter given without a value takes its default.
        #expect(try miner("Threshold", [("threshold", nil)]) == .threshold(0.5))
    }

    @Test func givenParametersAreRead() throws {
        #expect(try miner("Threshold", [("threshold", "0.8")]) == .threshold(0.8))
        #expect(try miner("CrossEntropy", [("threshold_cross_entropy", "1")]) == .crossEntropy(1))
        #expect(try miner("IBT", [("threshold_box", "0.9"), ("threshold_img", "0")]) == .ibt(thresholdImage: 0, thresholdBox: 0.9))
        #expect(try miner("Random", [("random_ratio", "0.05")]) == .random(ratio: 0.05, seed: 0))
    }

    @Test func anUnknownNameListsTheKnownOnes() {
        #expect(throws: HardExampleMiningError.unknownName("threshold")) { try miner("threshold") }
        #expect(HardExampleMiningError.unknownName("X").description
            == "unknown hard example mining algorithm \"X\" (known: Threshold, CrossEntropy, IBT, Random, CloudOnly, EdgeOnly)")
    }

    @Test func anUnknownParameterNamesTheMinersOwn() {
        #expect(throws: HardExampleMiningError.unknownParameter(miner: "IBT", key: "threshold")) { try miner("IBT", [("threshold", "0.5")]) }
        #expect(HardExampleMiningError.unknownParameter(miner: "IBT", key: "threshold").description
            == "unknown parameter \"threshold\" for IBT (known: threshold_img, threshold_box)")
        #expect(HardExampleMiningError.unknownParameter(miner: "CloudOnly", key: "x").description
            == "unknown parameter \"x\": CloudOnly takes no parameters")
    }

    @Test(arguments: ["-0.1", "1.01", "nan", "inf", "half", ""])
    func aValueOutsideZeroToOneIsRefused(_ value: String) {
        #expect(throws: HardExampleMiningError.badValue(key: "threshold", value: value)) { try miner("Threshold", [("threshold", value)]) }
    }

    @Test func everyProblemIsReported() {
        let problems = HardExampleMiner.problems(name: "IBT", parameters: [
            ("threshold_img", "2"), ("threshold_box", "0.5"), ("ratio", "0.1"), ("threshold_box", "0.4"),
        ])
        #expect(problems == [.badValue(key: "threshold_img", value: "2"), .unknownParameter(miner: "IBT", key: "ratio"),
                             .duplicateParameter("threshold_box")])
    }

    // MARK: Threshold

    @Test func thresholdIsHardBelowTheTopScoreOnly() throws {
        let miner = try miner("Threshold", [("threshold", "0.9")])
        #expect(verdict(miner, classes: [0.05, 0.89, 0.06]) == .hard)
        // Exactly at the threshold (as float32, the scores' precision) is not below it.
        #expect(verdict(miner, classes: [0.1, 0.9]) == .easy)
        #expect(verdict(miner, classes: [0.95, 0.05]) == .easy)
        // One class: its score is the top score.
        #expect(verdict(miner, classes: [0.5]) == .hard)
        #expect(verdict(miner, classes: [1]) == .easy)
    }

    @Test func thresholdOnBoxesComparesTheirMeanAsSednaDoes() throws {
        let miner = try miner("Threshold")
        #expect(verdict(miner, boxes: [0.9, 0.05]) == .hard)  // mean 0.475
        #expect(verdict(miner, boxes: [0.75, 0.25]) == .easy)  // mean exactly 0.5
        #expect(verdict(miner, boxes: []) == .easy)
    }

    // MARK: CrossEntropy

    @Test func crossEntropyNormalizesByLogK() throws {
        let miner = try miner("CrossEntropy")
        // Uniform: confidence 0.
        #expect(HardExampleMiner.normalizedConfidence([0.25, 0.25, 0.25, 0.25]) == 0)
        #expect(verdict(miner, classes: [0.25, 0.25, 0.25, 0.25]) == .hard)
        // One-hot (0·log 0 counts as 0): confidence 1.
        #expect(HardExampleMiner.normalizedConfidence([0, 1, 0]) == 1)
        #expect(verdict(miner, classes: [0, 1, 0]) == .easy)
        // Two classes, p = 0.9: 1 + (0.9 ln 0.9 + 0.1 ln 0.1) / ln 2 ≈ 0.531.
        let confidence = HardExampleMiner.normalizedConfidence([0.9, 0.1])
        #expect(abs(confidence - 0.5310044) < 1e-6)
        #expect(verdict(miner, classes: [0.9, 0.1]) == .easy)
        #expect(verdict(miner, classes: [0.85, 0.15]) == .hard)
        // At exactly the threshold it is not below it.
        #expect(verdict(try self.miner("CrossEntropy", [("threshold_cross_entropy", "0")]), classes: [0.5, 0.5]) == .easy)
        #expect(verdict(try self.miner("CrossEntropy", [("threshold_cross_entropy", "1")]), classes: [0, 1]) == .easy)
        #expect(verdict(try self.miner("CrossEntropy", [("threshold_cross_entropy", "1")]), classes: [0.01, 0.99]) == .hard)
    }

    @Test func crossEntropyWithOneClassIsNeverHard() throws {
        #expect(HardExampleMiner.normalizedConfidence([1]) == 1)
        #expect(verdict(try miner("CrossEntropy", [("threshold_cross_entropy", "1")]), classes: [1]) == .easy)
    }

    @Test func crossEntropyNeedsADistributionOfClassScores() throws {
        let miner = try miner("CrossEntropy")
        #expect(verdict(miner, classes: [0.5, 0.2]) == .badScores(.notADistribution))
        // Within the tolerance (a sum of 1.005) the scores are read.
        #expect(verdict(miner, classes: [0.5, 0.505]) == .hard)
        #expect(verdict(miner, classes: [0.995, 0.0]) == .easy)
        #expect(verdict(miner, classes: [0.5, 0.52]) == .badScores(.notADistribution))
        #expect(verdict(miner, boxes: [0.5]) == .badScores(.wrongKind))
    }

    // MARK: IBT

    @Test func ibtCountsLowBoxesAtOrBelowTheBoxThreshold() throws {
        let miner = try miner("IBT")
        // 2 of 4 at or below 0.5: share 0.5 ≥ 1 − 0.5.
        #expect(verdict(miner, boxes: [0.5, 0.1, 0.9, 0.8]) == .hard)
        // 1 of 4: 0.25 < 0.5.
        #expect(verdict(miner, boxes: [0.51, 0.1, 0.9, 0.8]) == .easy)
        let strict = try self.miner("IBT", [("threshold_img", "0.9"), ("threshold_box", "0.9")])
        // 1 of 10 low: share 0.1 ≥ 1 − 0.9.
        #expect(verdict(strict, boxes: [0.9] + Array(repeating: 0.95, count: 9)) == .hard)
        #expect(verdict(strict, boxes: Array(repeating: 0.95, count: 10)) == .easy)
        // threshold_img 0: hard only when every box is low.
        let all = try self.miner("IBT", [("threshold_img", "0")])
        #expect(verdict(all, boxes: [0.1, 0.2]) == .hard)
        #expect(verdict(all, boxes: [0.1, 0.6]) == .easy)
    }

    @Test func ibtWithNoBoxesIsEasyAndWithClassScoresIsTheWrongKind() throws {
        let miner = try miner("IBT", [("threshold_img", "1")])
        #expect(verdict(miner, boxes: []) == .easy)
        #expect(verdict(miner, classes: [0.5, 0.5]) == .badScores(.wrongKind))
    }

    // MARK: Bad scores

    @Test func badScoresAreNotHardAndSayWhy() throws {
        for miner in [try miner("Threshold", [("threshold", "1")]), try miner("CrossEntropy", [("threshold_cross_entropy", "1")])] {
            #expect(verdict(miner, classes: []) == .badScores(.empty))
            #expect(verdict(miner, classes: [.nan, 0.5]) == .badScores(.notFinite))
            #expect(verdict(miner, classes: [.infinity]) == .badScores(.notFinite))
            #expect(verdict(miner, classes: [-0.1, 1.1]) == .badScores(.outOfRange))
            #expect(verdict(miner, classes: Array(repeating: 0, count: LearningLimits.minedClassScoresMax + 1)) == .badScores(.tooMany))
        }
        let ibt = try miner("IBT", [("threshold_img", "1")])
        #expect(verdict(ibt, boxes: [0.2, .nan]) == .badScores(.notFinite))
        #expect(verdict(ibt, boxes: [0.2, 1.5]) == .badScores(.outOfRange))
        #expect(verdict(ibt, boxes: Array(repeating: 0, count: LearningLimits.minedBoxScoresMax + 1)) == .badScores(.tooMany))
        #expect(!HardExampleVerdict.badScores(.empty).isHard)
    }

    // MARK: Random, CloudOnly, EdgeOnly

    @Test func cloudOnlyAndEdgeOnlyIgnoreTheScores() throws {
        #expect(verdict(try miner("CloudOnly"), classes: [1, 0]) == .hard)
        #expect(verdict(try miner("CloudOnly"), classes: []) == .hard)
        #expect(verdict(try miner("EdgeOnly"), classes: [0.5, 0.5]) == .easy)
        #expect(verdict(try miner("EdgeOnly"), boxes: [.nan]) == .easy)
    }

    func hardShare(_ miner: HardExampleMiner, count: Int) -> Double {
        let hard = (0..<count).count { miner.verdict(.classes([]), key: Array("request-\($0)".utf8)) == .hard }
        return Double(hard) / Double(count)
    }

    @Test func randomSendsItsRatioOverManyKeys() throws {
        // 20,000 draws: the standard deviation of the share is at most 0.0035; 0.015 is over 4 of them.
        for ratio in ["0.3", "0.05", "0.9"] {
            let share = hardShare(try miner("Random", [("random_ratio", ratio)]), count: 20_000)
            #expect(abs(share - Double(ratio)!) < 0.015, "ratio \(ratio): share \(share)")
        }
        #expect(hardShare(try miner("Random", [("random_ratio", "0")]), count: 2_000) == 0)
        #expect(hardShare(try miner("Random", [("random_ratio", "1")]), count: 2_000) == 1)
    }

    @Test func randomIsDeterministicPerSeedAndKey() throws {
        let first = try miner("Random", seed: 1), again = try miner("Random", seed: 1), other = try miner("Random", seed: 2)
        let keys = (0..<1_000).map { Array("request-\($0)".utf8) }
        let verdicts = keys.map { first.verdict(.classes([]), key: $0) }
        #expect(verdicts == keys.map { again.verdict(.classes([]), key: $0) })
        // Another seed draws otherwise: 1,000 identical verdicts by chance has odds near 0.58^1000.
        #expect(verdicts != keys.map { other.verdict(.classes([]), key: $0) })
        #expect(HardExampleMiner.randomDraw(seed: 1, key: keys[0]) == HardExampleMiner.randomDraw(seed: 1, key: keys[0]))
        #expect((0.0..<1.0).contains(HardExampleMiner.randomDraw(seed: 1, key: [])))
    }
}
