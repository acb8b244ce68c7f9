/// The aggregation strategies a coordinator knows. Names match Flower's, which users know.
public enum AggregationAlgorithm: String, Sendable, CaseIterable {
    case fedAvg = "FedAvg"
    case fedAvgM = "FedAvgM"
    case fedProx = "FedProx"
    case fedAdam = "FedAdam"
    case fedYogi = "FedYogi"
    case fedAdagrad = "FedAdagrad"
    case fedMedian = "FedMedian"
    case trimmedMean = "TrimmedMean"
    case krum = "Krum"
    case multiKrum = "MultiKrum"

    /// The algorithm a spec gets when it names none.
    public static let defaultAlgorithm = AggregationAlgorithm.fedAvg

    /// Case-insensitive lookup: `fedavg` and `FEDAVG` are FedAvg.
    public init?(named name: String) {
        let lowered = name.lowercased()
        guard let match = Self.allCases.first(where: { $0.rawValue.lowercased() == lowered }) else { return nil }
        self = match
    }

    /// "FedAvg, FedAvgM, ...", for error messages and docs.
    public static var knownNames: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// Every parameter the aggregation reads (Flower's names; docs/learning.md), in the aggregation
    /// worker's `parameters`. Any other key there that Starling does not read either is a custom
    /// value for the training workers (`WorkerParameters`).
    public static let parameterNames = [
        "server_learning_rate", "server_momentum", "beta_1", "beta_2", "tau", "eta_l",
        "trim_fraction", "num_malicious", "num_to_keep", "proximal_mu",
    ]

    /// Flower's other spellings of some of them.
    public static let parameterAliases = [
        "eta": "server_learning_rate", "beta": "trim_fraction",
        "num_malicious_clients": "num_malicious", "num_clients_to_keep": "num_to_keep",
    ]

    /// Whether the aggregation reads `key` (by name or alias).
    public static func readsParameter(_ key: String) -> Bool {
        parameterNames.contains(parameterAliases[key] ?? key)
    }
}
