/// The messages of an inference worker's connection (docs/workers.md, "Inference workers"). The
/// worker opens it with one `ServeHello` line; the peer answers a `ServeWelcome` (or an
/// `ErrorResponse`: code `no-worker` means the worker is done, exit 0), then keeps it open and
/// writes `ServeJob` lines, which the worker answers in order, one `ServeAnswer` line each. Unlike
/// `LocalRequest` the hello is keyed `request`, so a peer tells the long-lived connection from the
/// one-line commands before it decodes either.
///
///     → {"request":"worker-serve","task":T,"worker":W,"token":K}
///     ← {"ok":true,"role":"edge","service":"NAME"}
///     ← {"job":"load","version":V,"model":"/abs/path.safetensors"}   → {"loaded":V}  or {"loaded":V,"error":"…"}
///     ← {"job":"infer","batch":ID,"version":V,"shape":[n,f],"data_f32":B64} → {"batch":ID,"classes":K,"scores_f32":B64}
///                                                                          or {"batch":ID,"error":"…"}
///     ← {"job":"stop"}
public struct ServeHello: Codable, Equatable, Sendable {
    /// The only value of `request`.
    public static let requestName = "worker-serve"

    public var identity: WorkerIdentity

    public init(_ identity: WorkerIdentity) { self.identity = identity }

    /// The hello as one line, newline included.
    public var line: [UInt8] { LocalAPI.line(self) }

    enum CodingKeys: String, CodingKey { case request }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.requestName, forKey: .request)
        try identity.encode(to: encoder)
    }

    /// Throws `LocalAPI.Invalid` for a line whose `request` is not `worker-serve` or that lacks an
    /// identity field.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let name = try? container.decode(String.self, forKey: .request), name == Self.requestName else {
            throw LocalAPI.Invalid(#"expected {"request":"worker-serve","task":…,"worker":…,"token":…}"#)
        }
        do {
            identity = try WorkerIdentity(from: decoder)
        } catch let error as DecodingError {
            throw LocalAPI.Invalid(LocalAPI.describe(error, decoding: Self.requestName))
        }
    }
}

/// The peer's acceptance of a `ServeHello`: the worker serves `service` as `role` (edge or cloud).
public struct ServeWelcome: Codable, Equatable, Sendable {
    public var ok: Bool
    public var role: String
    public var service: String

    public init(ok: Bool = true, role: String, service: String) {
        self.ok = ok
        self.role = role
        self.service = service
    }
}

/// A line the peer writes to an inference worker: `{"job":KIND, …fields}`. The first is always a
/// load; lines are ordered, so a batch after a load uses that model.
public enum ServeJob: Equatable, Sendable {
    /// Load (or swap to) the safetensors file at `model` (absolute), model version `version`.
    case load(version: UInt64, model: String)
    /// Score `shape[0]` examples of `shape[1]` features, `data` row-major, with the model the peer
    /// ordered as `version`.
    case infer(batch: UInt64, version: UInt64, shape: [Int], data: [Float])
    /// The service ended here: exit 0.
    case stop

    public enum Kind: String, CaseIterable, Sendable {
        case load, infer, stop
    }

    public var kind: Kind {
        switch self {
        case .load: .load
        case .infer: .infer
        case .stop: .stop
        }
    }

    /// The job as one line, newline included. A batch, the peer's most frequent line, is written
    /// directly (the same JSON the encoder writes): through the encoder it cost a loaded peer a
    /// seventh of its CPU.
    public var line: [UInt8] {
        guard case let .infer(batch, version, shape, data) = self else { return LocalAPI.line(self) }
        var text = #"{"batch":"# + String(batch) + #","data_f32":""# + Float32Base64.encode(data)
        text += #"","job":"infer","shape":["# + shape.map(String.init).joined(separator: ",")
        text += #"],"version":"# + String(version) + "}\n"
        return Array(text.utf8)
    }
}

extension ServeJob: Codable {
    enum CodingKeys: String, CodingKey {
        case job, version, model, batch, shape, data
        case dataFloat32 = "data_f32"
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind.rawValue, forKey: .job)
        switch self {
        case let .load(version, model):
            try container.encode(version, forKey: .version)
            try container.encode(model, forKey: .model)
        case let .infer(batch, version, shape, data):
            try container.encode(batch, forKey: .batch)
            try container.encode(version, forKey: .version)
            try container.encode(shape, forKey: .shape)
            try container.encode(Float32Base64.encode(data), forKey: .dataFloat32)
        case .stop:
            break
        }
    }

    /// Throws `LocalAPI.Invalid` for a kind this version does not know (a Lib older than its peer)
    /// or a job missing a field.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let name = try? container.decode(String.self, forKey: .job) else {
            throw LocalAPI.Invalid(#"the peer's serving line has no "job""#)
        }
        guard let kind = Kind(rawValue: name) else {
            throw LocalAPI.Invalid("the peer sends a serving job of kind '\(name)', which this worker Lib does not know "
                + "(it knows \(Kind.allCases.map(\.rawValue).joined(separator: ", "))): use the Lib of the peer's version")
        }
        do {
            switch kind {
            case .load:
                self = .load(version: try container.decode(UInt64.self, forKey: .version),
                             model: try container.decode(String.self, forKey: .model))
            case .infer:
                self = .infer(batch: try container.decode(UInt64.self, forKey: .batch),
                              version: try container.decode(UInt64.self, forKey: .version),
                              shape: try container.decode([Int].self, forKey: .shape),
                              data: try Self.floats(container, bytes: .dataFloat32, numbers: .data))
            case .stop:
                self = .stop
            }
        } catch let error as DecodingError {
            throw LocalAPI.Invalid(LocalAPI.describe(error, decoding: "the peer's \(name) job"))
        }
    }
}

extension KeyedDecodingContainer {
    /// Float values given as base64 of float32 bytes under `bytes`, or as JSON numbers under `numbers`.
    func floats(bytes: Key, numbers: Key) throws -> [Float] {
        if let text = try decodeIfPresent(String.self, forKey: bytes) {
            guard let values = Float32Base64.decode(text) else {
                throw LocalAPI.Invalid("\(bytes.stringValue) is not base64 of little-endian float32 values")
            }
            return values
        }
        return try decode([Float].self, forKey: numbers)
    }
}

extension ServeJob {
    static func floats(_ container: KeyedDecodingContainer<CodingKeys>, bytes: CodingKeys, numbers: CodingKeys) throws -> [Float] {
        try container.floats(bytes: bytes, numbers: numbers)
    }
}

/// An inference worker's answer to one `ServeJob` (none to `stop`), in the order of the jobs.
public enum ServeAnswer: Equatable, Sendable {
    /// `{"loaded":V}`, or `{"loaded":V,"error":"…"}` when the model could not be loaded (the worker
    /// keeps serving the one it had).
    case loaded(version: UInt64, error: String?)
    /// `{"batch":ID,"classes":K,"scores_f32":B64}` (or `"scores":[…]` as JSON numbers): per example, K
    /// class probabilities, row-major.
    case scores(batch: UInt64, classes: Int, scores: [Float])
    /// `{"batch":ID,"error":"…"}`: the batch could not be scored; the worker serves on.
    case failed(batch: UInt64, error: String)

    /// The answer as one line, newline included.
    public var line: [UInt8] { LocalAPI.line(self) }
}

extension ServeAnswer: Codable {
    enum CodingKeys: String, CodingKey {
        case loaded, error, batch, classes, scores
        case scoresFloat32 = "scores_f32"
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .loaded(version, error):
            try container.encode(version, forKey: .loaded)
            try container.encodeIfPresent(error, forKey: .error)
        case let .scores(batch, classes, scores):
            try container.encode(batch, forKey: .batch)
            try container.encode(classes, forKey: .classes)
            try container.encode(Float32Base64.encode(scores), forKey: .scoresFloat32)
        case let .failed(batch, error):
            try container.encode(batch, forKey: .batch)
            try container.encode(error, forKey: .error)
        }
    }

    /// `loaded` makes a load answer; else `batch` with `error` a failed batch, `batch` with
    /// `classes` and `scores` a scored one. Throws `LocalAPI.Invalid` for anything else.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        do {
            if container.contains(.loaded) {
                self = .loaded(version: try container.decode(UInt64.self, forKey: .loaded),
                               error: try container.decodeIfPresent(String.self, forKey: .error))
            } else if container.contains(.batch) {
                let batch = try container.decode(UInt64.self, forKey: .batch)
                if let error = try container.decodeIfPresent(String.self, forKey: .error) {
                    self = .failed(batch: batch, error: error)
                } else {
                    self = .scores(batch: batch, classes: try container.decode(Int.self, forKey: .classes),
                                   scores: try container.floats(bytes: .scoresFloat32, numbers: .scores))
                }
            } else {
                throw LocalAPI.Invalid(#"an inference worker's answer has neither "loaded" nor "batch""#)
            }
        } catch let error as DecodingError {
            throw LocalAPI.Invalid(LocalAPI.describe(error, decoding: "an inference worker's answer"))
        }
    }
}
