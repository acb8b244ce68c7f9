import StarlingLearning

/// A reference to a dataset a peer holds, by name. Peers announce the datasets they hold; a worker
/// with no `nodeName` runs on a live peer that holds this one.
public struct DatasetRef: Sendable, Equatable {
    public var name: String

    public init(name: String) { self.name = name }
}

/// A reference to a model, by name.
public struct ModelRef: Sendable, Equatable {
    public var name: String

    public init(name: String) { self.name = name }
}

/// What a worker process runs: its boot file, working directory and declared framework.
public struct ScriptSpec: Sendable, Equatable {
    /// `trainScriptDir` / `scriptDir`: the worker's working directory, as written.
    public var directory: String?
    /// `trainScriptBootFile` / `scriptBootFile`.
    public var bootFile: BootFile
    /// `frameworkType` as written (tensorflow, pytorch, numpy...): passed to the worker, not interpreted.
    public var frameworkType: String?
    /// `frameworkVersion` as written: `1.12` stays "1.12".
    public var frameworkVersion: String?

    public init(directory: String? = nil, bootFile: BootFile, frameworkType: String? = nil, frameworkVersion: String? = nil) {
        self.directory = directory
        self.bootFile = bootFile
        self.frameworkType = frameworkType
        self.frameworkVersion = frameworkVersion
    }
}

/// How a worker is started.
public enum BootFile: Sendable, Equatable {
    /// `builtin:logreg`, `builtin:mlp`: a worker built into the peer, no Python needed.
    case builtin(BuiltinWorker)
    /// A path ending in `.py`: run with Python.
    case python(path: String)
    /// Any other path: run as an executable.
    case executable(path: String)

    /// The text as the user writes it.
    public var text: String {
        switch self {
        case let .builtin(worker): return BuiltinWorker.prefix + worker.rawValue
        case let .python(path), let .executable(path): return path
        }
    }
}

/// A worker parameter that Starling does not interpret: passed through to the worker as written.
public struct Parameter: Sendable, Equatable, Comparable {
    public var key: String
    /// nil when the spec gave the key with no value.
    public var value: String?

    public init(key: String, value: String?) {
        self.key = key
        self.value = value
    }

    public static func < (left: Parameter, right: Parameter) -> Bool { left.key < right.key }
}

/// The script and the parameters of a worker (IncrementalLearningJob, JointInferenceService).
public struct WorkerSpec: Sendable, Equatable {
    public var script: ScriptSpec
    /// Sorted by key, keys unique.
    public var parameters: [Parameter]

    public init(script: ScriptSpec, parameters: [Parameter] = []) {
        self.script = script
        self.parameters = parameters.sorted()
    }
}

/// A hard-example-mining algorithm (Sedna's names: Threshold, CrossEntropy, IBT, Random, CloudOnly,
/// EdgeOnly) and its parameters. A JointInferenceService's is checked against the built-in miners
/// (`HardExampleMiner`); an IncrementalLearningJob's goes to its worker unchecked.
public struct HardExampleMining: Sendable, Equatable {
    public var name: String
    /// Sorted by key, keys unique.
    public var parameters: [Parameter]

    public init(name: String, parameters: [Parameter] = []) {
        self.name = name
        self.parameters = parameters.sorted()
    }
}
