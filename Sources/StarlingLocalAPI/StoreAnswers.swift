/// A dataset registered on the peer (`dataset-add`, `dataset-append`, `dataset-list`). `bytes`,
/// `samples` and `classes` are totals over its registered file and its `arrivals`.
public struct Dataset: Codable, Equatable, Sendable {
    public var name: String
    /// The registered file.
    public var path: String
    /// csv or npz (of the registered file).
    public var format: String
    public var bytes: UInt64
    public var samples: UInt64
    public var features: UInt64
    public var classes: UInt64
    /// Unix seconds.
    public var addedAt: UInt64
    /// Files appended since it was registered (`dataset-append`).
    public var arrivals: UInt64

    public init(name: String, path: String, format: String, bytes: UInt64, samples: UInt64, features: UInt64, classes: UInt64,
                addedAt: UInt64, arrivals: UInt64 = 0) {
        self.name = name
        self.path = path
        self.format = format
        self.bytes = bytes
        self.samples = samples
        self.features = features
        self.classes = classes
        self.addedAt = addedAt
        self.arrivals = arrivals
    }

    enum CodingKeys: String, CodingKey {
        case name, path, format, bytes, samples, features, classes, addedAt, arrivals
    }

    /// An answer of a peer from before arrivals has none.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        path = try container.decode(String.self, forKey: .path)
        format = try container.decode(String.self, forKey: .format)
        bytes = try container.decode(UInt64.self, forKey: .bytes)
        samples = try container.decode(UInt64.self, forKey: .samples)
        features = try container.decode(UInt64.self, forKey: .features)
        classes = try container.decode(UInt64.self, forKey: .classes)
        addedAt = try container.decode(UInt64.self, forKey: .addedAt)
        arrivals = try container.decodeIfPresent(UInt64.self, forKey: .arrivals) ?? 0
    }
}

/// A dataset a live peer declares in its tags.
public struct DeclaredDataset: Codable, Equatable, Sendable {
    /// The declaring peer's name.
    public var peer: String
    public var name: String
    public var format: String
    public var bytes: UInt64
    public var samples: UInt64

    public init(peer: String, name: String, format: String, bytes: UInt64, samples: UInt64) {
        self.peer = peer
        self.name = name
        self.format = format
        self.bytes = bytes
        self.samples = samples
    }
}

/// `dataset-add` ← the outcome, and the record when it was added.
public struct DatasetAddResponse: Codable, Equatable, Sendable {
    public var ok: Bool
    public var message: String
    public var dataset: Dataset?

    public init(ok: Bool, message: String, dataset: Dataset? = nil) {
        self.ok = ok
        self.message = message
        self.dataset = dataset
    }
}

/// `dataset-append` ← the outcome, and when the samples were added, the dataset with its new
/// totals and the arrival that added them.
public struct DatasetAppendResponse: Codable, Equatable, Sendable {
    /// One appended file, as the peer recorded it.
    public struct Arrival: Codable, Equatable, Sendable {
        /// 1 for a dataset's first arrival, then one more for each.
        public var sequence: UInt64
        public var samples: UInt64
        public var bytes: UInt64
        /// Unix seconds.
        public var arrivedAt: UInt64

        public init(sequence: UInt64, samples: UInt64, bytes: UInt64, arrivedAt: UInt64) {
            self.sequence = sequence
            self.samples = samples
            self.bytes = bytes
            self.arrivedAt = arrivedAt
        }
    }

    public var ok: Bool
    public var message: String
    public var dataset: Dataset?
    public var arrival: Arrival?

    public init(ok: Bool, message: String, dataset: Dataset? = nil, arrival: Arrival? = nil) {
        self.ok = ok
        self.message = message
        self.dataset = dataset
        self.arrival = arrival
    }
}

/// `dataset-list` ← this peer's datasets, and those the live peers declare (this one included).
public struct DatasetListResponse: Codable, Equatable, Sendable {
    public var datasets: [Dataset]
    public var declared: [DeclaredDataset]

    public init(datasets: [Dataset], declared: [DeclaredDataset]) {
        self.datasets = datasets
        self.declared = declared
    }
}

/// A committed global model the peer recorded.
public struct Model: Codable, Equatable, Sendable {
    public var hash: String
    /// The task's full id and name.
    public var task: String
    public var taskName: String
    public var round: UInt64
    public var epoch: UInt64
    public var metrics: [String: Double]
    public var bytes: UInt64
    public var parameters: UInt64
    /// Unix seconds.
    public var savedAt: UInt64
    /// Whether its blob is on this peer.
    public var held: Bool

    public init(hash: String, task: String, taskName: String, round: UInt64, epoch: UInt64, metrics: [String: Double],
                bytes: UInt64, parameters: UInt64, savedAt: UInt64, held: Bool) {
        self.hash = hash
        self.task = task
        self.taskName = taskName
        self.round = round
        self.epoch = epoch
        self.metrics = metrics
        self.bytes = bytes
        self.parameters = parameters
        self.savedAt = savedAt
        self.held = held
    }
}

/// A starting model imported on the peer (`model import`).
public struct ImportedModel: Codable, Equatable, Sendable {
    public var name: String
    public var hash: String
    /// The file it was imported from.
    public var path: String
    public var bytes: UInt64
    public var tensors: UInt64
    public var parameters: UInt64
    /// Unix seconds.
    public var importedAt: UInt64
    public var held: Bool

    public init(name: String, hash: String, path: String, bytes: UInt64, tensors: UInt64, parameters: UInt64,
                importedAt: UInt64, held: Bool) {
        self.name = name
        self.hash = hash
        self.path = path
        self.bytes = bytes
        self.tensors = tensors
        self.parameters = parameters
        self.importedAt = importedAt
        self.held = held
    }
}

/// `model-list` ← committed models (newest first, as the store lists them), then imported ones.
public struct ModelListResponse: Codable, Equatable, Sendable {
    public var models: [Model]
    public var imported: [ImportedModel]

    public init(models: [Model], imported: [ImportedModel]) {
        self.models = models
        self.imported = imported
    }
}

/// `model-import` ← the outcome; the blob's hash and the name when it was imported.
public struct ModelImportResponse: Codable, Equatable, Sendable {
    public var ok: Bool
    public var message: String
    public var hash: String?
    public var name: String?

    public init(ok: Bool, message: String, hash: String? = nil, name: String? = nil) {
        self.ok = ok
        self.message = message
        self.hash = hash
        self.name = name
    }
}

/// `model-export` ← the outcome; when written: the file, the model's hash, whether the peer had to
/// fetch it, and for a task's model its round, the task's rounds and phase.
public struct ModelExportResponse: Codable, Equatable, Sendable {
    public var ok: Bool
    public var message: String
    public var path: String?
    public var hash: String?
    public var fetched: Bool?
    public var round: UInt64?
    public var rounds: UInt64?
    public var phase: String?

    public init(ok: Bool, message: String, path: String? = nil, hash: String? = nil, fetched: Bool? = nil,
                round: UInt64? = nil, rounds: UInt64? = nil, phase: String? = nil) {
        self.ok = ok
        self.message = message
        self.path = path
        self.hash = hash
        self.fetched = fetched
        self.round = round
        self.rounds = rounds
        self.phase = phase
    }
}
