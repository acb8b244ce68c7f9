import StarlingLearning
import StarlingStore

/// Every bound of a registered dataset and its arrivals (`starling dataset append`), in one place
/// (docs/runtime.md, "Limits").
public enum DatasetLimits {
    /// Arrivals one dataset may have (each is a file and a row of the store).
    public static let arrivalsMax: UInt64 = 10_000
    /// Bytes of a dataset's registered file and arrivals together: what one worker may be handed.
    public static let bytesMax = UInt64(LearningLimits.datasetBytesMax)
    /// Rows of a dataset's registered file and arrivals together.
    public static let rowsMax = UInt64(LearningLimits.datasetRowsMax)

    /// The limits as the store checks them, in the transaction that records an arrival.
    static let arrival = DatasetArrivalLimits(arrivalsMax: arrivalsMax, bytesMax: bytesMax, samplesMax: rowsMax)
}
