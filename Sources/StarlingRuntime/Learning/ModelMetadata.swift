import StarlingCrypto
import StarlingTasks
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What Starling writes into a safetensors file's `__metadata__` (strings only, per the format):
/// an update's sample count and metrics, a committed model's task, round, epoch and metrics. Any
/// holder of a model can list it with its round and metrics from the file alone.
enum ModelMetadata {
    static let task = "starling.task"
    static let taskName = "starling.task_name"
    static let round = "starling.round"
    static let epoch = "starling.epoch"
    static let samples = "starling.num_samples"
    static let metricPrefix = "metric."

    static func metrics(in metadata: [String: String]) -> [String: Double] {
        var metrics: [String: Double] = [:]
        for (key, value) in metadata where key.hasPrefix(metricPrefix) {
            if let number = Double(value), number.isFinite { metrics[String(key.dropFirst(metricPrefix.count))] = number }
        }
        return metrics
    }

    static func forUpdate(samples: UInt64, metrics: [String: Double]) -> [String: String] {
        var metadata = [Self.samples: String(samples)]
        for (name, value) in metrics where value.isFinite { metadata[metricPrefix + name] = "\(value)" }
        return metadata
    }

    static func forModel(task: TaskID, name: String, epoch: UInt64, round: UInt64, metrics: [String: Double]) -> [String: String] {
        var metadata = [Self.task: task.text, taskName: name, Self.round: String(round), Self.epoch: String(epoch)]
        for (name, value) in metrics where value.isFinite { metadata[metricPrefix + name] = "\(value)" }
        return metadata
    }
}

enum UnixClock {
    static func now() -> UInt64 { UInt64(max(0, time(nil))) }
}

extension ContentHash {
    /// Parses 64 hex characters.
    init(hex: String) throws {
        try self.init(bytes: Hex.decode(hex))
    }
}
