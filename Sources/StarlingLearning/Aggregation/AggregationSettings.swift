/// An aggregation algorithm and its parameters, with Flower 1.x's names and defaults.
public struct AggregationSettings: Sendable, Equatable {
    public var algorithm: AggregationAlgorithm
    /// Overrides by canonical name (aliases are mapped: `eta` → `server_learning_rate`, `beta` →
    /// `trim_fraction`, `num_malicious_clients` → `num_malicious`, `num_clients_to_keep` → `num_to_keep`).
    public var parameters: [String: Double]

    public init(algorithm: AggregationAlgorithm, parameters: [String: Double] = [:]) {
        self.algorithm = algorithm
        var canonical: [String: Double] = [:]
        for (key, value) in parameters { canonical[Self.aliases[key] ?? key] = value }
        self.parameters = canonical
    }

    /// Every parameter name this target reads (kept with the algorithms, where the spec reader in
    /// StarlingTasks also finds them to tell them from the workers' custom values).
    public static let knownParameters = AggregationAlgorithm.parameterNames

    static let aliases = AggregationAlgorithm.parameterAliases

    /// Flower's defaults for `algorithm` (FedOpt family: eta, eta_l, beta_1, beta_2, tau).
    public static func defaults(for algorithm: AggregationAlgorithm) -> [String: Double] {
        switch algorithm {
        case .fedAvg, .fedMedian: return [:]
        case .fedProx: return ["proximal_mu": 0]
        case .fedAvgM: return ["server_learning_rate": 1, "server_momentum": 0]
        case .fedAdam: return ["server_learning_rate": 0.1, "eta_l": 0.1, "beta_1": 0.9, "beta_2": 0.99, "tau": 1e-9]
        case .fedYogi: return ["server_learning_rate": 0.01, "eta_l": 0.0316, "beta_1": 0.9, "beta_2": 0.99, "tau": 1e-3]
        case .fedAdagrad: return ["server_learning_rate": 0.1, "eta_l": 0.1, "beta_1": 0, "beta_2": 0, "tau": 1e-9]
        case .trimmedMean: return ["trim_fraction": 0.2]
        case .krum: return ["num_malicious": 0]
        case .multiKrum: return ["num_malicious": 0]
        }
    }

    /// The override for `name`, else the algorithm's default, else nil.
    public func value(_ name: String) -> Double? {
        parameters[Self.aliases[name] ?? name] ?? Self.defaults(for: algorithm)[Self.aliases[name] ?? name]
    }

    func number(_ name: String) -> Double { value(name) ?? 0 }

    /// Reads a task's parameters: unknown keys are ignored; a known key (or alias) without a value,
    /// with a value that is not a finite number, or out of its range is an error.
    /// Ranges: rates, tau, eta_l, proximal_mu ≥ 0 (tau > 0); beta_1, beta_2, server_momentum in [0, 1);
    /// trim_fraction in [0, 0.5); num_malicious, num_to_keep whole numbers ≥ 0.
    public static func parse(algorithm: AggregationAlgorithm, parameters: [(key: String, value: String?)]) throws(LearningError) -> AggregationSettings {
        var values: [String: Double] = [:]
        for (key, text) in parameters {
            let name = aliases[key] ?? key
            guard knownParameters.contains(name) else { continue }
            guard let text else { throw LearningError("parameter \(key) has no value") }
            guard let number = Double(text.trimmingSpaces), number.isFinite else {
                throw LearningError("parameter \(key) is \"\(text.prefix(40))\", not a finite number")
            }
            switch name {
            case "beta_1", "beta_2", "server_momentum":
                guard number >= 0 && number < 1 else { throw LearningError("parameter \(key) is \(number), must be in [0, 1)") }
            case "trim_fraction":
                guard number >= 0 && number < 0.5 else { throw LearningError("parameter \(key) is \(number), must be in [0, 0.5)") }
            case "num_malicious", "num_to_keep":
                guard number >= 0, number == number.rounded(), number <= 1e9 else {
                    throw LearningError("parameter \(key) is \(number), must be a whole number ≥ 0")
                }
            case "tau":
                guard number > 0 else { throw LearningError("parameter \(key) is \(number), must be > 0") }
            default:
                guard number >= 0 else { throw LearningError("parameter \(key) is \(number), must be ≥ 0") }
            }
            values[name] = number
        }
        return AggregationSettings(algorithm: algorithm, parameters: values)
    }

    /// Whether the algorithm keeps one running sum (true) or every update until `finish` (false).
    public var streams: Bool {
        switch algorithm {
        case .fedAvg, .fedAvgM, .fedProx, .fedAdam, .fedYogi, .fedAdagrad: return true
        case .fedMedian, .trimmedMean, .krum, .multiKrum: return false
        }
    }
}

extension String {
    var trimmingSpaces: Substring {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return slice
    }
}
