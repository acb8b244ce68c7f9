/// `infer`: examples for a service this peer serves as an edge (`starling infer`), `shape`
/// [examples, features] and `data` row-major. The HTTP endpoint takes the same through the Open
/// Inference Protocol; this is the local socket's way, bounded by `LocalAPILimits.requestBytesMax`
/// (the CLI sends large inputs in several requests).
public struct InferCall: Codable, Equatable, Sendable {
    public var service: String
    public var shape: [Int]
    public var data: [Float]

    public init(service: String, shape: [Int], data: [Float]) {
        self.service = service
        self.shape = shape
        self.data = data
    }
}

/// `infer` ← per example, the class scores and where they were computed (edge, cloud or
/// edge-fallback); or an `ErrorResponse` (`status` says which HTTP status the same refusal gets).
public struct InferAnswer: Codable, Equatable, Sendable {
    public var service: String
    public var classes: Int
    /// examples × classes, row-major.
    public var scores: [Float]
    public var computedAt: [String]
    public var fallbackReason: String?
    public var edgeVersion: UInt64
    public var cloudVersion: UInt64?

    enum CodingKeys: String, CodingKey {
        case service, classes, scores, computedAt = "computed_at", fallbackReason = "fallback_reason",
             edgeVersion = "edge_version", cloudVersion = "cloud_version"
    }

    public init(service: String, classes: Int, scores: [Float], computedAt: [String], fallbackReason: String?,
                edgeVersion: UInt64, cloudVersion: UInt64?) {
        self.service = service
        self.classes = classes
        self.scores = scores
        self.computedAt = computedAt
        self.fallbackReason = fallbackReason
        self.edgeVersion = edgeVersion
        self.cloudVersion = cloudVersion
    }
}
