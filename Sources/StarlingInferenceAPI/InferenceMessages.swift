import Foundation

/// The Open Inference Protocol v2 (KServe / Triton REST) messages, as Codable values: what
/// `POST /v2/models/NAME/infer` takes and answers, and what the metadata endpoints answer. Field
/// names are the protocol's. This is the JSON form of tensor data; Triton's binary data extension
/// is decoded into these same values (`BinaryTensorData`). Foundation's JSON coders are fine here: this target is a driver's, not a pure core.
public struct InferRequest: Codable, Equatable, Sendable {
    /// Echoed in the answer.
    public var id: String?
    public var parameters: [String: InferParameter]?
    public var inputs: [InferTensor]
    /// The outputs asked for (nil: all).
    public var outputs: [RequestedOutput]?

    public init(id: String? = nil, parameters: [String: InferParameter]? = nil, inputs: [InferTensor],
                outputs: [RequestedOutput]? = nil) {
        self.id = id
        self.parameters = parameters
        self.inputs = inputs
        self.outputs = outputs
    }
}

public struct RequestedOutput: Codable, Equatable, Sendable {
    public var name: String
    public var parameters: [String: InferParameter]?

    public init(name: String, parameters: [String: InferParameter]? = nil) {
        self.name = name
        self.parameters = parameters
    }
}

/// A named tensor of a request or an answer: `data` is row-major, flat or nested as `shape` says.
public struct InferTensor: Codable, Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    public var datatype: String
    public var parameters: [String: InferParameter]?
    public var data: TensorData

    public init(name: String, shape: [Int], datatype: String, parameters: [String: InferParameter]? = nil, data: TensorData) {
        self.name = name
        self.shape = shape
        self.datatype = datatype
        self.parameters = parameters
        self.data = data
    }
}

/// `POST .../infer`'s answer.
public struct InferResponse: Codable, Equatable, Sendable {
    public var modelName: String
    public var modelVersion: String?
    public var id: String?
    /// Starling says here where the answer was computed (`computed_at`: edge, cloud or
    /// edge-fallback, with `fallback_reason`).
    public var parameters: [String: InferParameter]?
    public var outputs: [InferTensor]

    enum CodingKeys: String, CodingKey {
        case modelName = "model_name", modelVersion = "model_version", id, parameters, outputs
    }

    public init(modelName: String, modelVersion: String? = nil, id: String? = nil,
                parameters: [String: InferParameter]? = nil, outputs: [InferTensor]) {
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.id = id
        self.parameters = parameters
        self.outputs = outputs
    }
}

/// `GET /v2/models/NAME`'s answer.
public struct ModelMetadataResponse: Codable, Equatable, Sendable {
    public struct Tensor: Codable, Equatable, Sendable {
        public var name: String
        public var datatype: String
        /// -1 for a dimension of any size (the batch).
        public var shape: [Int]

        public init(name: String, datatype: String, shape: [Int]) {
            self.name = name
            self.datatype = datatype
            self.shape = shape
        }
    }

    public var name: String
    public var versions: [String]?
    public var platform: String
    public var inputs: [Tensor]
    public var outputs: [Tensor]

    public init(name: String, versions: [String]? = nil, platform: String, inputs: [Tensor], outputs: [Tensor]) {
        self.name = name
        self.versions = versions
        self.platform = platform
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// A parameter value: the protocol allows a string, a number or a boolean.
public enum InferParameter: Codable, Equatable, Sendable {
    case string(String)
    case number(Double)
    case bool(Bool)

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Booleans first: Foundation's decoder would read true as the number 1.
        if let flag = try? container.decode(Bool.self) { self = .bool(flag) }
        else if let number = try? container.decode(Double.self) { self = .number(number) }
        else if let text = try? container.decode(String.self) { self = .string(text) }
        else { throw DecodingError.dataCorruptedError(in: container, debugDescription: "a parameter is a string, a number or a boolean") }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .string(text): try container.encode(text)
        case let .number(number): try container.encode(number)
        case let .bool(flag): try container.encode(flag)
        }
    }
}
