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
}
