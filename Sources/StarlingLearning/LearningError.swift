/// What went wrong while reading, checking or computing a model or a data set. The description
/// names the part that is wrong ("tensor fc.weight: data_offsets [0, 12] hold 12 bytes, shape [2, 2]
/// of F32 needs 16").
public struct LearningError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Every limit of this target, in one place. Inputs beyond a limit are refused with a
/// `LearningError` naming the limit, never trapped on.
public enum LearningLimits {
    /// Float buffers at least this large are hinted to the kernel as huge pages before they are
    /// first written (`VectorMath.makeFloats`): a model-sized buffer then costs a few dozen page
    /// faults instead of thousands (about 60 ms per 100 MB here).
    public static let hugePageHintBytes = 4 << 20
    /// Largest safetensors file or model (all tensors as F32): 2 GiB.
    public static let modelBytesMax = 1 << 31
    /// Largest number of Float values in a model (`modelBytesMax / 4`).
    public static let parametersMax = modelBytesMax / 4
    /// Tensors in one model.
    public static let tensorsMax = 65_536
    /// Dimensions of one tensor.
    public static let rankMax = 8
    /// UTF-8 bytes of a tensor name.
    public static let nameBytesMax = 1_024
    /// Bytes of a safetensors JSON header (the format's own limit is 100 MB).
    public static let headerBytesMax = 100_000_000
    /// Entries in a safetensors `__metadata__` object.
    public static let metadataEntriesMax = 1_024
    /// UTF-8 bytes of one metadata key or value.
    public static let metadataTextBytesMax = 65_536
    /// Nesting depth of a JSON header.
    public static let jsonDepthMax = 8
    /// Updates a holding algorithm (FedMedian, TrimmedMean, Krum, MultiKrum) keeps in one round.
    public static let heldUpdatesMax = 10_000
    /// Bytes of accepted updates a streaming `RoundAggregator` references before folding them (256 MiB).
    public static let foldWindowBytesMax = 1 << 28
    /// Metric names one update may report.
    public static let metricsMax = 256
    /// Bytes of a data set file, and of anything gunzipped or inflated.
    public static let datasetBytesMax = 1 << 30
    /// Rows (samples) of a data set.
    public static let datasetRowsMax = 10_000_000
    /// Features per sample.
    public static let featuresMax = 1 << 20
    /// Classes of a classification data set (labels are 0..<classesMax).
    public static let classesMax = 10_000
    /// Members of an npz archive.
    public static let npzMembersMax = 1_024
    /// Examples a built-in model scores in one pass (`BuiltinClassifier.probabilities` takes more in
    /// passes of this many, so its scratch buffers stay small).
    public static let predictionBatchRows = 256
    /// Hidden units of the built-in MLP.
    public static let hiddenUnitsMax = 4_096
    /// Class scores a hard-example miner reads for one example (more: `BadScoreReason.tooMany`).
    public static let minedClassScoresMax = classesMax
    /// Detection boxes a hard-example miner reads for one example.
    public static let minedBoxScoresMax = 10_000
    /// How far from 1 the class scores `CrossEntropy` reads may sum (float32 softmax over many
    /// classes drifts by about 1e-5; a sum off by more is not a probability distribution).
    public static let classScoreSumTolerance = 0.01
}
