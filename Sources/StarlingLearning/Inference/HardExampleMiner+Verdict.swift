import RealModule
import StarlingCrypto

/// What the edge model answered for one example, as a miner reads it.
public enum MinedScores: Sendable, Equatable {
    /// A classifier's per-class probabilities (a softmax output), one per class.
    case classes([Float])
    /// A detector's per-box confidence scores (Sedna's `bbox[4]`), one per box.
    case boxes([Float])
}

/// A miner's decision on one example. Bad scores are not hard (the edge answer stands, as in
/// Sedna, whose filters answer False on invalid input), but they are told apart so the caller can
/// count them.
public enum HardExampleVerdict: Sendable, Equatable {
    case hard
    case easy
    case badScores(BadScoreReason)

    public var isHard: Bool { self == .hard }
}

/// Why scores could not be judged: a small closed set, so each can be counted.
public enum BadScoreReason: String, Sendable, Equatable, CaseIterable {
    /// No class scores at all.
    case empty
    /// More class scores than `LearningLimits.minedClassScoresMax` or boxes than `minedBoxScoresMax`.
    case tooMany
    /// A score is NaN or infinite.
    case notFinite
    /// A score is below 0 or above 1.
    case outOfRange
    /// `CrossEntropy` only: the class scores do not sum to 1 within `LearningLimits.classScoreSumTolerance`.
    case notADistribution
    /// Box scores given to a miner that reads class scores (`CrossEntropy`), or class scores to
    /// one that reads boxes (`IBT`).
    case wrongKind
}

extension HardExampleMiner {
    /// The verdict on one example. `key` names the example (a request id, say) and only matters
    /// to `Random`; `Random`, `CloudOnly` and `EdgeOnly` read no scores, so they never answer
    /// `badScores`.
    public func verdict(_ scores: MinedScores, key: some Collection<UInt8>) -> HardExampleVerdict {
        switch self {
        case .cloudOnly: return .hard
        case .edgeOnly: return .easy
        case let .random(ratio, seed): return Self.randomDraw(seed: seed, key: key) < ratio ? .hard : .easy
        case let .threshold(threshold):
            switch scores {
            case let .classes(classes):
                if let bad = Self.check(classes, limit: LearningLimits.minedClassScoresMax, emptyIsBad: true) { return .badScores(bad) }
                // Compared at the scores' own precision, so a score equal to the threshold as
                // written ("0.9") is not below it.
                return classes.max()! < Float(threshold) ? .hard : .easy
            case let .boxes(boxes):
                if let bad = Self.check(boxes, limit: LearningLimits.minedBoxScoresMax, emptyIsBad: false) { return .badScores(bad) }
                // No boxes: the detector found nothing, a normal answer for an empty scene (see `ibt`).
                guard !boxes.isEmpty else { return .easy }
                let mean = boxes.reduce(0.0) { $0 + Double($1) } / Double(boxes.count)
                return mean < Double(Float(threshold)) ? .hard : .easy
            }
        case let .crossEntropy(threshold):
            guard case let .classes(classes) = scores else { return .badScores(.wrongKind) }
            if let bad = Self.check(classes, limit: LearningLimits.minedClassScoresMax, emptyIsBad: true) { return .badScores(bad) }
            let sum = classes.reduce(0.0) { $0 + Double($1) }
            guard abs(sum - 1) <= LearningLimits.classScoreSumTolerance else { return .badScores(.notADistribution) }
            return Self.normalizedConfidence(classes) < threshold ? .hard : .easy
        case let .ibt(thresholdImage, thresholdBox):
            guard case let .boxes(boxes) = scores else { return .badScores(.wrongKind) }
            if let bad = Self.check(boxes, limit: LearningLimits.minedBoxScoresMax, emptyIsBad: false) { return .badScores(bad) }
            // No boxes: the share of low boxes is 0/0. The detector found nothing, which for a
            // camera is the common case (an empty road); calling it hard would send every empty
            // frame to the cloud. Sedna answers not hard too.
            guard !boxes.isEmpty else { return .easy }
            let low = boxes.count { $0 <= Float(thresholdBox) }
            return Double(low) / Double(boxes.count) >= 1 - thresholdImage ? .hard : .easy
        }
    }

    /// 1 + Σ p·log p / log K: 1 for a one-hot answer, 0 for a uniform one. 0·log 0 counts as 0
    /// (its limit). With one class there is nothing to be unsure between (log 1 = 0 would divide
    /// by zero): the confidence is 1.
    static func normalizedConfidence(_ classes: [Float]) -> Double {
        guard classes.count > 1 else { return 1 }
        var sum = 0.0
        for score in classes where score > 0 {
            let p = Double(score)
            sum += p * .log(p)
        }
        return 1 + sum / .log(Double(classes.count))
    }

    /// The first problem with `scores`, or nil when every score is a finite number in [0, 1].
    static func check(_ scores: [Float], limit: Int, emptyIsBad: Bool) -> BadScoreReason? {
        if scores.count > limit { return .tooMany }
        if scores.isEmpty && emptyIsBad { return .empty }
        if scores.contains(where: { !$0.isFinite }) { return .notFinite }
        if scores.contains(where: { $0 < 0 || $0 > 1 }) { return .outOfRange }
        return nil
    }

    /// A number in [0, 1) from BLAKE2b(seed as 8 little-endian bytes ‖ key) (`ContentHash.fraction`).
    static func randomDraw(seed: UInt64, key: some Collection<UInt8>) -> Double {
        ContentHash.of(withUnsafeBytes(of: seed.littleEndian) { Array($0) } + Array(key)).fraction
    }
}
