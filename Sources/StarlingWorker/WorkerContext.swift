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
    /// `STARLING_PARAMETERS`: batch_size, learning_rate, epochs, rounds, aggregation, proximal_mu,
    /// and the spec's other parameters (numbers as numbers, true/false as booleans, else text).
    public let parameters: [String: WorkerParameter]
    /// `STARLING_ROLE`: `train`, `evaluate` in a process started for central evaluation, `eval` in
    /// an IncrementalLearningJob's evaluation worker (`WorkerClient.evaluateModels`), or `edge` or
    /// `cloud` in an inference worker (`WorkerClient.serve`).
    public var role = "train"
    /// `STARLING_SERVICE`: the service an inference worker serves (empty in other workers).
    public var service = ""
    /// `STARLING_EVAL_MODELS` of an evaluation worker (`STARLING_ROLE=eval`): model name → safetensors
    /// path (empty in other workers).
    public var evaluationModels: [String: String] = [:]
    /// `STARLING_EVAL_OUTPUT`: the result file an evaluation worker writes (empty in other workers).
    public var evaluationOutput = ""

    /// The `STARLING_ROLE`s of inference workers.
    public static let servingRoles: Set<String> = ["edge", "cloud"]

    /// An inference worker's role: it serves a model and has no dataset.
    public var isServing: Bool { Self.servingRoles.contains(role) }

    /// Reads the environment; the error names the first variable missing.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> WorkerContext {
        func value(_ name: String) throws -> String {
            guard let value = environment[name] else {
                throw WorkerError("\(name) is not set: this program must be started by a Starling peer as a training worker")
            }
            return value
        }
        let json = try value("STARLING_PARAMETERS")
        // JSONDecoder, not JSONSerialization: on Linux the latter's numbers 0 and 1 pass for booleans.
        guard let parameters = try? JSONDecoder().decode([String: WorkerParameter].self, from: Data(json.utf8)) else {
            throw WorkerError("STARLING_PARAMETERS is not a JSON object: \(json.prefix(80))")
        }
        guard let seed = UInt64(try value("STARLING_SEED")) else { throw WorkerError("STARLING_SEED is not a number") }
        let role = environment["STARLING_ROLE"] ?? "train"
        // Serving needs no dataset: an inference worker's STARLING_DATASET_PATH may be empty or absent.
        let datasetPath = servingRoles.contains(role) ? environment["STARLING_DATASET_PATH"] ?? "" : try value("STARLING_DATASET_PATH")
        var context = WorkerContext(
            socketPath: try value("STARLING_SOCKET"), task: try value("STARLING_TASK"),
            taskName: environment["STARLING_TASK_NAME"] ?? "", worker: try value("STARLING_WORKER"),
            token: try value("STARLING_WORKER_TOKEN"), datasetName: environment["STARLING_DATASET"] ?? "",
            datasetPath: datasetPath, datasetFormat: environment["STARLING_DATASET_FORMAT"] ?? "csv",
            workDirectory: try value("STARLING_WORK_DIR"), modelName: environment["STARLING_MODEL_NAME"] ?? "",
            seed: seed, parameters: parameters)
        context.role = role
        context.service = environment["STARLING_SERVICE"] ?? ""
        if role == WorkerClient.modelEvaluatorRole {
            let models = try value("STARLING_EVAL_MODELS")
            guard let decoded = try? JSONDecoder().decode([String: String].self, from: Data(models.utf8)), !decoded.isEmpty else {
                throw WorkerError("STARLING_EVAL_MODELS is not a JSON object of model names and paths: \(models.prefix(80))")
            }
            context.evaluationModels = decoded
            context.evaluationOutput = try value("STARLING_EVAL_OUTPUT")
        }
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

public enum WorkerParameter: Sendable, Equatable, Decodable {
    case number(Double)
    case boolean(Bool)
    case text(String)
    /// Given in the spec without a value (or a JSON value of another kind).
    case empty

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .empty
        } else if let flag = try? container.decode(Bool.self) {
            self = .boolean(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .text(text)
        } else {
            self = .empty
        }
    }
}

public struct WorkerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
