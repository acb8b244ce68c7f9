/// A classification data set: `count` rows of `featureCount` Float features (row-major) and an Int32
/// label in 0..<classCount per row.
public struct LabeledData: Sendable, Equatable {
    public var features: [Float]
    public var labels: [Int32]
    public var featureCount: Int
    public var classCount: Int

    public var count: Int { labels.count }

    /// Checks the sizes and that every label is in 0..<classCount.
    public init(features: [Float], labels: [Int32], featureCount: Int, classCount: Int) throws(LearningError) {
        guard featureCount > 0, featureCount <= LearningLimits.featuresMax else {
            throw LearningError("feature count \(featureCount) is not in 1...\(LearningLimits.featuresMax)")
        }
        guard classCount > 0, classCount <= LearningLimits.classesMax else {
            throw LearningError("class count \(classCount) is not in 1...\(LearningLimits.classesMax)")
        }
        guard labels.count <= LearningLimits.datasetRowsMax else {
            throw LearningError("\(labels.count) rows exceed \(LearningLimits.datasetRowsMax)")
        }
        guard features.count == labels.count * featureCount else {
            throw LearningError("\(features.count) feature values for \(labels.count) rows of \(featureCount)")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= classCount }) {
            throw LearningError("row \(bad): label \(labels[bad]) is not in 0..<\(classCount)")
        }
        self.features = features
        self.labels = labels
        self.featureCount = featureCount
        self.classCount = classCount
    }

    /// The rows at `indices`, in that order (same feature and class counts).
    public func subset(_ indices: [Int]) -> LabeledData {
        var features: [Float] = []
        features.reserveCapacity(indices.count * featureCount)
        var labels: [Int32] = []
        labels.reserveCapacity(indices.count)
        for index in indices {
            features.append(contentsOf: self.features[(index * featureCount)..<((index + 1) * featureCount)])
            labels.append(self.labels[index])
        }
        var copy = self
        copy.features = features
        copy.labels = labels
        return copy
    }
}

/// Data set file formats `DatasetFile.decode` reads.
public enum DatasetFormat: String, Sendable, CaseIterable {
    case csv, npz
}
