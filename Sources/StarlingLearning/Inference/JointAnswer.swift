/// Where an example of a joint-inference request was answered.
public enum ComputedAt: String, Sendable, Equatable, CaseIterable {
    case edge, cloud
    case edgeFallback = "edge-fallback"
}

/// The pure part of a joint-inference answer (docs/runtime.md, "Joint inference"): which examples
/// of a batch are hard, and the one answer made of the edge's scores and the cloud's.
public enum JointAnswer {
    /// A batch as the miner judged it.
    public struct Mined: Sendable, Equatable {
        /// The hard examples, by row, in order.
        public let hardRows: [Int]
        /// Examples whose scores no miner could judge (answered at the edge), by reason.
        public let badScores: [BadScoreReason: Int]
    }

    /// Judges each of `rows` examples by its edge scores (`classes` per row, row-major). `inputs`
    /// (`features` per row) name each example for `Random`, so the same example draws the same.
    public static func mine(scores: [Float], classes: Int, rows: Int, inputs: [Float], features: Int,
                            miner: HardExampleMiner) -> Mined {
        precondition(scores.count == rows * classes && inputs.count == rows * features, "a batch's scores and inputs fill its rows")
        var hard: [Int] = []
        var bad: [BadScoreReason: Int] = [:]
        for row in 0..<rows {
            let rowScores = Array(scores[(row * classes)..<((row + 1) * classes)])
            var key: [UInt8] = []
            key.reserveCapacity(features * 4)
            for value in inputs[(row * features)..<((row + 1) * features)] {
                let bits = value.bitPattern
                key += [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8),
                        UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24)]
            }
            switch miner.verdict(.classes(rowScores), key: key) {
            case .hard: hard.append(row)
            case .easy: break
            case let .badScores(reason): bad[reason, default: 0] += 1
            }
        }
        return Mined(hardRows: hard, badScores: bad)
    }

    /// The answer: the edge's scores, with the cloud's for the hard rows when the cloud answered
    /// (`cloud`: `hardRows.count × classes` scores), else the edge's marked `edgeFallback`.
    public static func combine(edge: [Float], classes: Int, rows: Int, hardRows: [Int], cloud: [Float]?)
        -> (scores: [Float], computedAt: [ComputedAt]) {
        precondition(edge.count == rows * classes, "the edge's scores fill the batch")
        precondition(cloud == nil || cloud!.count == hardRows.count * classes, "the cloud's scores fill the hard rows")
        var scores = edge
        var computedAt = [ComputedAt](repeating: .edge, count: rows)
        for (index, row) in hardRows.enumerated() {
            if let cloud {
                scores.replaceSubrange((row * classes)..<((row + 1) * classes), with: cloud[(index * classes)..<((index + 1) * classes)])
                computedAt[row] = .cloud
            } else {
                computedAt[row] = .edgeFallback
            }
        }
        return (scores, computedAt)
    }

    /// The predicted class of each row: the highest score (the first on a tie).
    public static func classes(of scores: [Float], classes: Int) -> [Int] {
        precondition(classes > 0 && scores.count % classes == 0, "scores fill their rows")
        return (0..<(scores.count / classes)).map { row in
            var best = 0
            for index in 1..<classes where scores[row * classes + index] > scores[row * classes + best] { best = index }
            return best
        }
    }
}
