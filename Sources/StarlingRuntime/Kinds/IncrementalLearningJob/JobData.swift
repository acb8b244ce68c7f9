import StarlingLearning
import StarlingPeer
import StarlingStore
import StarlingTasks

/// The rows a job's stage hands its worker: the first `rows` of this peer's dataset (its file's,
/// then its arrivals', `DatasetRows`), those of one part of the split (`ArrivalSplit`), written as
/// CSV into the stage's directory. The rows never leave the peer.
enum JobData {
    /// Writes the slice to `path`; returns the rows written.
    static func write(_ slice: JobDataSlice, from store: Store?, to path: String) throws -> Int {
        let (record, arrivals) = DatasetRows.registered(slice.dataset, in: store)
        guard let record else {
            throw RuntimeError("dataset \(slice.dataset) is not registered on this peer (starling dataset add \(slice.dataset) --path FILE)")
        }
        let selection = DatasetRows.Selection(watermark: slice.rows, part: slice.part, trainProbability: slice.trainProbability)
        return try DatasetRows.materialize(record, arrivals: arrivals, selection: selection, to: path)
    }

    /// The record a stage's worker is launched with: the written slice.
    static func record(_ name: String, path: String, rows: Int) -> DatasetRecord {
        DatasetRecord(name: name, path: path, format: "csv", bytes: 0, samples: UInt64(rows), features: 0, classes: 0,
                      addedAt: UnixClock.now())
    }
}
