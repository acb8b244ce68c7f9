/// A named tensor of Float values in row-major (C) order.
public struct Tensor: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    /// Checks the name (non-empty, at most `LearningLimits.nameBytesMax` bytes, not `__metadata__`),
    /// the rank, the dimensions (non-negative) and that `values.count` is the product of `shape`.
    public init(name: String, shape: [Int], values: [Float]) throws(LearningError) {
        try Tensor.check(name: name)
        let count = try Tensor.elementCount(shape, name: name)
        guard count == values.count else {
            throw LearningError("tensor \(name) has shape \(shape) (\(count) values) but \(values.count) values")
        }
        self.name = name
        self.shape = shape
        self.values = values
    }

    /// Values in the tensor.
    public var count: Int { values.count }

    static func check(name: String) throws(LearningError) {
        guard !name.isEmpty else { throw LearningError("a tensor name is empty") }
        guard name.utf8.count <= LearningLimits.nameBytesMax else {
            throw LearningError("tensor name of \(name.utf8.count) bytes exceeds \(LearningLimits.nameBytesMax)")
        }
        guard name != "__metadata__" else { throw LearningError("__metadata__ is not a tensor name") }
    }

    /// The product of `shape`, overflow-checked and within `LearningLimits.parametersMax`.
    static func elementCount(_ shape: [Int], name: String) throws(LearningError) -> Int {
        guard shape.count <= LearningLimits.rankMax else {
            throw LearningError("tensor \(name) has rank \(shape.count), more than \(LearningLimits.rankMax)")
        }
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { throw LearningError("tensor \(name) has a negative dimension in \(shape)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= LearningLimits.parametersMax else {
                throw LearningError("tensor \(name) with shape \(shape) exceeds \(LearningLimits.parametersMax) values")
            }
            count = product
        }
        return count
    }
}

/// A model: tensors sorted by name (names unique) and the safetensors `__metadata__` strings.
public struct ModelWeights: Sendable, Equatable {
    public var tensors: [Tensor]
    public var metadata: [String: String]

    /// Sorts the tensors by name; refuses duplicate names, more than `LearningLimits.tensorsMax`
    /// tensors, more than `LearningLimits.parametersMax` values in all, and metadata beyond its limits.
    public init(tensors: [Tensor], metadata: [String: String] = [:]) throws(LearningError) {
        guard tensors.count <= LearningLimits.tensorsMax else {
            throw LearningError("model has \(tensors.count) tensors, more than \(LearningLimits.tensorsMax)")
        }
        let sorted = tensors.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        var total = 0
        for (index, tensor) in sorted.enumerated() {
            if index > 0 && sorted[index - 1].name == tensor.name {
                throw LearningError("tensor name \(tensor.name) appears twice")
            }
            total += tensor.values.count
            guard total <= LearningLimits.parametersMax else {
                throw LearningError("model exceeds \(LearningLimits.parametersMax) values")
            }
        }
        guard metadata.count <= LearningLimits.metadataEntriesMax else {
            throw LearningError("metadata has \(metadata.count) entries, more than \(LearningLimits.metadataEntriesMax)")
        }
        for (key, value) in metadata
        where key.utf8.count > LearningLimits.metadataTextBytesMax || value.utf8.count > LearningLimits.metadataTextBytesMax {
            throw LearningError("metadata entry \(String(key.prefix(40))) exceeds \(LearningLimits.metadataTextBytesMax) bytes")
        }
        self.tensors = sorted
        self.metadata = metadata
    }

    /// Values in all tensors.
    public var parameterCount: Int { tensors.reduce(0) { $0 + $1.values.count } }

    /// Same tensor names and shapes, in the same (sorted) order.
    public func sameLayout(as other: ModelWeights) -> Bool {
        tensors.count == other.tensors.count
            && zip(tensors, other.tensors).allSatisfy { $0.name == $1.name && $0.shape == $1.shape }
    }

    /// The tensor with this name.
    public subscript(name: String) -> Tensor? { tensors.first { $0.name == name } }
}
