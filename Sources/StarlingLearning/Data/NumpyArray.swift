/// One array of an npz archive, its values widened to Double (row-major), for callers that read
/// arrays other than a data set's `x` and `y` (`starling infer` takes `x`, `X` or `data`).
public struct NumpyArray: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Double]
    /// float16/32/64 (the others are integers or bools).
    public var isFloat: Bool

    public init(shape: [Int], values: [Double], isFloat: Bool) {
        self.shape = shape
        self.values = values
        self.isFloat = isFloat
    }
}

extension DatasetFile {
    /// Every array of an npz archive by its name without `.npy`, read as `decode(_:format:)` reads
    /// `x` and `y` (stored or deflated members, npy 1 to 3, little endian, C order), within
    /// `LearningLimits.datasetBytesMax`.
    public static func npzArrays(_ bytes: [UInt8]) throws(LearningError) -> [String: NumpyArray] {
        guard bytes.count <= LearningLimits.datasetBytesMax else {
            throw LearningError("npz of \(bytes.count) bytes exceeds \(LearningLimits.datasetBytesMax)")
        }
        var arrays: [String: NumpyArray] = [:]
        for member in try NPZ.members(bytes) {
            let name = member.name.hasSuffix(".npy") ? String(member.name.dropLast(4)) : member.name
            let array = try NPYArray.decode(try NPZ.contents(of: member, in: bytes), name: name)
            arrays[name] = NumpyArray(shape: array.shape, values: array.values, isFloat: array.kind.isFloat)
        }
        return arrays
    }
}
