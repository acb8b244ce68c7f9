/// Hard-example mining for joint inference (after KubeEdge Sedna's `hard_example_mining.py`, by its
/// names, parameters and defaults): decides from the edge model's scores whether an example is
/// "hard", i.e. should be answered by the cloud model. Pure: the `Random` miner draws nothing; it
/// hashes a seed and the example's key, so the same example gets the same verdict on every peer
/// and in every run.
public enum HardExampleMiner: Sendable, Equatable {
    /// Hard when the top class score is below `threshold` (on box scores: their mean, as Sedna's
    /// `Threshold` does for detections).
    case threshold(Double)
    /// Hard when the normalized confidence 1 + Σ p·log p / log K is below `threshold_cross_entropy`.
    case crossEntropy(Double)
    /// Hard when the share of boxes scoring at most `threshold_box` is at least 1 − `threshold_img`.
    case ibt(thresholdImage: Double, thresholdBox: Double)
    /// Hard with probability `random_ratio`, decided by hashing `seed` and the example's key.
    case random(ratio: Double, seed: UInt64)
    /// Every example is hard.
    case cloudOnly
    /// No example is hard.
    case edgeOnly

    /// One known miner: its name as written in a spec and its parameters with their defaults.
    public struct Known: Sendable {
        public let name: String
        public let parameters: [(key: String, defaultValue: Double)]
    }

    /// Every miner a spec may name, in Sedna's order; names are case-sensitive as in Sedna.
    public static let known: [Known] = [
        Known(name: "Threshold", parameters: [("threshold", 0.5)]),
        Known(name: "CrossEntropy", parameters: [("threshold_cross_entropy", 0.5)]),
        Known(name: "IBT", parameters: [("threshold_img", 0.5), ("threshold_box", 0.5)]),
        Known(name: "Random", parameters: [("random_ratio", 0.3)]),
        Known(name: "CloudOnly", parameters: []),
        Known(name: "EdgeOnly", parameters: []),
    ]

    public static var knownNames: [String] { known.map(\.name) }

    /// Every problem with a miner's name and parameters (empty when they are usable). A nil value
    /// means the default applies. An unknown name is the only problem reported for it, since its
    /// parameters cannot be judged.
    public static func problems(name: String, parameters: [(key: String, value: String?)]) -> [HardExampleMiningError] {
        guard let miner = known.first(where: { $0.name == name }) else { return [.unknownName(name)] }
        var problems: [HardExampleMiningError] = []
        var seen: Set<String> = []
        for (key, value) in parameters {
            guard seen.insert(key).inserted else {
                problems.append(.duplicateParameter(key))
                continue
            }
            guard miner.parameters.contains(where: { $0.key == key }) else {
                problems.append(.unknownParameter(miner: name, key: key))
                continue
            }
            if let value, parseUnitInterval(value) == nil {
                problems.append(.badValue(key: key, value: value))
            }
        }
        return problems
    }

    /// The miner `name` with `parameters` (Sedna's keys; missing ones take their defaults).
    /// `seed` only matters to `Random`: peers that pass the same seed agree on every verdict.
    public init(name: String, parameters: [(key: String, value: String?)] = [], seed: UInt64 = 0) throws(HardExampleMiningError) {
        if let first = Self.problems(name: name, parameters: parameters).first { throw first }
        // Checked above: the name is known and every given value is a number in [0, 1].
        let known = Self.known.first { $0.name == name }!
        func value(_ key: String) -> Double {
            if let given = parameters.first(where: { $0.key == key })?.value, let number = Self.parseUnitInterval(given) {
                return number
            }
            return known.parameters.first { $0.key == key }!.defaultValue
        }
        switch name {
        case "Threshold": self = .threshold(value("threshold"))
        case "CrossEntropy": self = .crossEntropy(value("threshold_cross_entropy"))
        case "IBT": self = .ibt(thresholdImage: value("threshold_img"), thresholdBox: value("threshold_box"))
        case "Random": self = .random(ratio: value("random_ratio"), seed: seed)
        case "CloudOnly": self = .cloudOnly
        default: self = .edgeOnly
        }
    }

    /// A parameter value as a number in [0, 1] (Sedna's `data_check` range), or nil.
    static func parseUnitInterval(_ text: String) -> Double? {
        guard let number = Double(text), (0.0...1.0).contains(number) else { return nil }
        return number
    }
}

/// Why a miner's name or parameters are refused; the description is the message a user sees.
public enum HardExampleMiningError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownName(String)
    case unknownParameter(miner: String, key: String)
    case duplicateParameter(String)
    case badValue(key: String, value: String)

    public var description: String {
        switch self {
        case let .unknownName(name):
            return "unknown hard example mining algorithm \"\(name)\" (known: \(HardExampleMiner.knownNames.joined(separator: ", ")))"
        case let .unknownParameter(miner, key):
            let keys = HardExampleMiner.known.first { $0.name == miner }?.parameters.map(\.key) ?? []
            return keys.isEmpty
                ? "unknown parameter \"\(key)\": \(miner) takes no parameters"
                : "unknown parameter \"\(key)\" for \(miner) (known: \(keys.joined(separator: ", ")))"
        case let .duplicateParameter(key):
            return "parameter \(key) given twice"
        case let .badValue(key, value):
            return "\(key) must be a number from 0 to 1, got \"\(value)\""
        }
    }
}
