import Foundation

/// What a peer tells the worker it starts, through the environment (docs/workers.md).
public struct WorkerContext: Sendable {
    public let socketPath: String
    /// The task id (64 hex) and name.
    public let task: String
    public let taskName: String
    public let worker: String
    let token: String
    public let datasetName: String
    public let datasetPath: String
    /// csv or npz.
    public let datasetFormat: String
    /// A directory the worker may write into (updates go there).
    public let workDirectory: String
    public let modelName: String
    /// The same for every worker of the task: seed round 1's model with it.
    public let seed: UInt64
    /// `STARLING_PARAMETERS`: batch_size, learning_rate, epochs, rounds, proximal_mu, and the spec's
    /// other parameters as written.
    public let parameters: [String: WorkerParameter]
    /// `STARLING_ROLE`: `train`, or `evaluate` in a process started for central evaluation.
    public var role = "train"

    /// Reads the environment; the error names the first variable missing.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> WorkerContext {
        func value(_ name: String) throws -> String {
            guard let value = environment[name] else {
                throw WorkerError("\(name) is not set: this program must be started by a Starling peer as a training worker")
            }
            return value
        }
        let json = try value("STARLING_PARAMETERS")
        guard let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] else {
            throw WorkerError("STARLING_PARAMETERS is not a JSON object: \(json.prefix(80))")
        }
        var parameters: [String: WorkerParameter] = [:]
        for (key, raw) in object {
            if let number = raw as? NSNumber, !(raw is Bool) { parameters[key] = .number(number.doubleValue) }
            else if let text = raw as? String { parameters[key] = .text(text) }
            else { parameters[key] = .none }
        }
        guard let seed = UInt64(try value("STARLING_SEED")) else { throw WorkerError("STARLING_SEED is not a number") }
        var context = WorkerContext(
            socketPath: try value("STARLING_SOCKET"), task: try value("STARLING_TASK"),
            taskName: environment["STARLING_TASK_NAME"] ?? "", worker: try value("STARLING_WORKER"),
            token: try value("STARLING_WORKER_TOKEN"), datasetName: environment["STARLING_DATASET"] ?? "",
            datasetPath: try value("STARLING_DATASET_PATH"), datasetFormat: environment["STARLING_DATASET_FORMAT"] ?? "csv",
            workDirectory: try value("STARLING_WORK_DIR"), modelName: environment["STARLING_MODEL_NAME"] ?? "",
            seed: seed, parameters: parameters)
        context.role = environment["STARLING_ROLE"] ?? "train"
        return context
    }

    /// A numeric parameter (a number, or text that reads as one), else `fallback`.
    public func number(_ key: String, default fallback: Double) -> Double {
        switch parameters[key] {
        case let .number(value)?: return value
        case let .text(text)?: return Double(text) ?? fallback
        default: return fallback
        }
    }
}

public enum WorkerParameter: Sendable, Equatable {
    case number(Double)
    case text(String)
    /// Given in the spec without a value.
    case none
}

public struct WorkerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
