import StarlingLearning
import Testing

/// The pure part of joint inference: which rows are hard, and the answer made of both models'.
@Suite struct JointAnswerTests {
    // Three examples of two features; scores over three classes: sure, unsure, bad (not finite).
    let inputs: [Float] = [0, 1, 2, 3, 4, 5]
    let edge: [Float] = [0.98, 0.01, 0.01, 0.34, 0.33, 0.33, .nan, 0.5, 0.5]

    @Test func crossEntropyMarksTheUnsureRowAndCountsTheBadOne() throws {
        let miner = try HardExampleMiner(name: "CrossEntropy")
        let mined = JointAnswer.mine(scores: edge, classes: 3, rows: 3, inputs: inputs, features: 2, miner: miner)
        #expect(mined.hardRows == [1])
        #expect(mined.badScores == [.notFinite: 1])
        let cloudOnly = JointAnswer.mine(scores: edge, classes: 3, rows: 3, inputs: inputs, features: 2,
                                         miner: try HardExampleMiner(name: "CloudOnly"))
        #expect(cloudOnly.hardRows == [0, 1, 2] && cloudOnly.badScores.isEmpty)
    }

    @Test func randomDrawsTheSameForTheSameExample() throws {
        let miner = try HardExampleMiner(name: "Random", parameters: [("random_ratio", "0.5")], seed: 9)
        let many: [Float] = (0..<200).flatMap { index -> [Float] in [Float(index), 1] }
        let scores = [Float](repeating: 0.5, count: 400)
        let first = JointAnswer.mine(scores: scores, classes: 2, rows: 200, inputs: many, features: 2, miner: miner)
        let again = JointAnswer.mine(scores: scores, classes: 2, rows: 200, inputs: many, features: 2, miner: miner)
        #expect(first == again)
        #expect((60...140).contains(first.hardRows.count), "about half of 200: \(first.hardRows.count)")
    }

    @Test func theCloudAnswersTheHardRowsOrTheEdgeFallsBack() {
        let cloud: [Float] = [0.1, 0.8, 0.1]
        let joint = JointAnswer.combine(edge: edge, classes: 3, rows: 3, hardRows: [1], cloud: cloud)
        #expect(Array(joint.scores[3..<6]) == cloud && Array(joint.scores[0..<3]) == Array(edge[0..<3]))
        #expect(joint.computedAt == [.edge, .cloud, .edge])
        let fallback = JointAnswer.combine(edge: edge, classes: 3, rows: 3, hardRows: [1], cloud: nil)
        #expect(fallback.scores.elementsEqual(edge) { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(fallback.computedAt == [.edge, .edgeFallback, .edge])
        #expect(JointAnswer.classes(of: joint.scores, classes: 3).prefix(2) == [0, 1])
        #expect(JointAnswer.classes(of: [0.5, 0.5], classes: 2) == [0], "a tie goes to the first class")
    }
}
