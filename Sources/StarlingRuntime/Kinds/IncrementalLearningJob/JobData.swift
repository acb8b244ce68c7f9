import StarlingLearning
import StarlingPeer
import StarlingStore
import StarlingTasks

/// The rows a job's stage hands its worker: the first `rows` of this peer's dataset (its file's,
/// then its arrivals'), those of one part of the split (`ArrivalSplit`), written as CSV into the
/// stage's directory. The rows never leave the peer.
enum JobData {
    /// Writes the slice to `path`; returns the rows written.
    static func write(_ slice: JobDataSlice, from store: Store?, to path: String) throws -> Int {
        guard let record = try store?.datasets().first(where: { $0.name == slice.dataset }) else {
            throw RuntimeError("dataset \(slice.dataset) is not registered on this peer (starling dataset add \(slice.dataset) --path FILE)")
        }
        guard let format = DatasetFormat(rawValue: record.format) else {
            throw RuntimeError("dataset \(slice.dataset) has the unknown format \(record.format)")
        }
        let data = try DatasetFile.decode(POSIXFile.read(record.path, limit: LearningLimits.datasetBytesMax), format: format)
        let selected = select(data, slice: slice)
        try POSIXFile.writeAtomically(DatasetFile.encodeCSV(selected), to: path, mode: 0o600, replace: true)
        return selected.count
    }

    /// The rows of `data` below the slice's watermark in the slice's part, in order.
    static func select(_ data: LabeledData, slice: JobDataSlice) -> LabeledData {
        let limit = min(UInt64(data.count), slice.rows)
        let rows = ArrivalSplit.rows(slice.part, dataset: slice.dataset, rows: 0..<limit, trainProbability: slice.trainProbability)
        var features: [Float] = []
        var labels: [Int32] = []
        features.reserveCapacity(rows.count * data.featureCount)
        for row in rows.map(Int.init) {
            features.append(contentsOf: data.features[(row * data.featureCount)..<((row + 1) * data.featureCount)])
            labels.append(data.labels[row])
        }
        // The sizes match by construction; the class count stays the dataset's.
        guard let selected = try? LabeledData(features: features, labels: labels, featureCount: data.featureCount,
                                             classCount: data.classCount) else {
            preconditionFailure("a selection of a dataset's rows is a dataset")
        }
        return selected
    }

    /// The record a stage's worker is launched with: the written slice.
    static func record(_ name: String, path: String, rows: Int) -> DatasetRecord {
        DatasetRecord(name: name, path: path, format: "csv", bytes: 0, samples: UInt64(rows), features: 0, classes: 0,
                      addedAt: UnixClock.now())
    }
}
