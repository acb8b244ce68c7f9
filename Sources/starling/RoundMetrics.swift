/// A committed round's metrics as `task status` and `task watch` print them, each named for what it
/// measures (docs/tasks.md, "Metrics"):
///
/// - `loss`: the workers' training loss of their updates (sample-weighted mean);
/// - `accuracy`, `val_loss`: the round's starting model (the previous commit) scored by each worker
///   on its own data, on validating rounds ("local val");
/// - `central_<name>`: the round's new model scored by the coordinator on the task's evaluation
///   dataset (`aggregationWorker.evaluation`), on validating rounds;
/// - `updates_rejected`: updates the coordinator refused.
enum RoundMetrics {
    /// The known metrics in print order, with their labels; any other keeps its own name, after these.
    static let labels: [(key: String, label: String)] = [
        ("loss", "train loss"), ("val_loss", "local val loss"), ("accuracy", "local val accuracy"),
        ("central_loss", "central loss"), ("central_accuracy", "central accuracy"), ("updates_rejected", "updates rejected"),
    ]

    /// "train loss 0.3121, local val accuracy 0.9130, central accuracy 0.9361" (empty for none).
    static func describe(_ metrics: [String: Double]?) -> String {
        guard let metrics, !metrics.isEmpty else { return "" }
        var parts: [String] = []
        for (key, label) in labels {
            if let value = metrics[key] { parts.append("\(label) \(format(value, key: key))") }
        }
        let known = Set(labels.map(\.key))
        for (key, value) in metrics.sorted(by: { $0.key < $1.key }) where !known.contains(key) {
            let label = key.hasPrefix("central_") ? "central " + key.dropFirst("central_".count) : key
            parts.append("\(label) \(format(value, key: key))")
        }
        return parts.joined(separator: ", ")
    }

    static func format(_ value: Double, key: String) -> String {
        if key == "updates_rejected", value == value.rounded(), abs(value) < 1e9 { return String(Int(value)) }
        let scaled = (value * 10_000).rounded() / 10_000
        var text = "\(scaled)"
        if let dot = text.firstIndex(of: ".") {
            let decimals = text.distance(from: dot, to: text.endIndex) - 1
            if decimals < 4 { text += String(repeating: "0", count: 4 - decimals) }
        }
        return text
    }
}
