import StarlingLearning
import StarlingStore

/// Hard examples an edge keeps for incremental learning (`hard_examples_dataset: NAME` among the
/// edge worker's parameters): each hard example the cloud answered, its features and the cloud's
/// class as its label, lands in the registered dataset NAME, which a job (or `dataset list`) can
/// use like any other. Rows are buffered in memory and written as one arrival
/// (`DatasetAppend`, `DATA/datasets/NAME/arrival-N.csv`) every
/// `ServingLimits.hardExamplesBatchRows` rows, or when the executor flushes (its timer, every
/// `hardExamplesFlushInterval`, and when the service ends here). The first batch, when no dataset
/// NAME is registered, becomes its registered file, `DATA/datasets/NAME/registered.csv`.
///
/// Bounded: the dataset holds at most `ServingLimits.hardExamplesMax` rows and
/// `hardExamplesBytesMax` bytes; past them new rows are counted and dropped, old ones never
/// rewritten. Examples the cloud did not answer have no trustworthy label and are not kept. Rows
/// still buffered when the peer is killed are lost (at most one batch, or one interval's worth).
/// Plain state: the serving executor calls it on the loop's thread.
final class HardExampleDataset {
    /// What became of one example.
    enum Kept: Equatable {
        /// Buffered (and written with its batch).
        case kept
        /// The dataset is at its bounds, or the row is not as wide as the rows before it.
        case dropped
    }

    let name: String
    let store: Store
    let dataDirectory: String
    private let now: () -> UInt64
    private var features: [Float] = []
    private var labels: [Int32] = []
    private var width: Int?
    private var bufferedBytes = 0
    /// The dataset's rows and bytes in the store (read at the first example, then kept up to date).
    private var stored: (samples: UInt64, bytes: UInt64)?

    init(name: String, store: Store, dataDirectory: String, now: @escaping () -> UInt64 = UnixClock.now) {
        self.name = name
        self.store = store
        self.dataDirectory = dataDirectory
        self.now = now
    }

    /// Rows waiting for the next write.
    var buffered: Int { labels.count }

    var registeredPath: String { "\(DatasetAppend.directory(dataDirectory))/\(name)/registered.csv" }

    /// Buffers one example; a full batch is written at once (its outcome returned then).
    func append(features row: ArraySlice<Float>, label: Int) -> (kept: Kept, written: Result<Int, RuntimeError>?) {
        guard !row.isEmpty, label >= 0, label < LearningLimits.classesMax, width == nil || width == row.count else {
            return (.dropped, nil)
        }
        let lineBytes = Self.lineBytes(row, label: label)
        let (samples, bytes) = storedTotals()
        guard samples + UInt64(labels.count) < UInt64(ServingLimits.hardExamplesMax),
              bytes + UInt64(bufferedBytes + lineBytes) <= UInt64(ServingLimits.hardExamplesBytesMax) else {
            return (.dropped, nil)
        }
        width = row.count
        features.append(contentsOf: row)
        labels.append(Int32(label))
        bufferedBytes += lineBytes
        return (.kept, labels.count >= ServingLimits.hardExamplesBatchRows ? flush() : nil)
    }

    /// Writes the buffered rows (as the registered file when the dataset is new, else as an
    /// arrival); returns how many, or why they could not be written (they are dropped then, and
    /// counted by the caller). Nil when nothing was buffered.
    @discardableResult
    func flush() -> Result<Int, RuntimeError>? {
        guard let width, !labels.isEmpty else { return nil }
        defer {
            features = []
            labels = []
            bufferedBytes = 0
            self.width = nil
        }
        do {
            let data = try LabeledData(features: features, labels: labels, featureCount: width,
                                       classCount: Int(labels.max() ?? 0) + 1)
            let bytes = DatasetFile.encodeCSV(data)
            let record: DatasetRecord
            if try store.dataset(named: name) == nil {
                record = try register(data, bytes: bytes)
            } else {
                record = try DatasetAppend.append(bytes, format: .csv, from: "the hard examples of \(name)", to: name, store: store,
                                                  dataDirectory: dataDirectory, now: now()).dataset
            }
            stored = (record.samples, record.bytes)
            return .success(data.count)
        } catch let error as RuntimeError {
            stored = nil
            return .failure(error)
        } catch {
            stored = nil
            return .failure(RuntimeError("\(error)"))
        }
    }

    /// The first batch as the dataset's registered file, written durably, then the dataset.
    private func register(_ data: LabeledData, bytes: [UInt8]) throws -> DatasetRecord {
        try POSIXFile.makeDirectories(POSIXFile.parentDirectory(of: registeredPath))
        try POSIXFile.writeAtomically(bytes, to: registeredPath, mode: 0o600, replace: true)
        let record = DatasetRecord(name: name, path: registeredPath, format: DatasetFormat.csv.rawValue, bytes: UInt64(bytes.count),
                                   samples: UInt64(data.count), features: UInt64(data.featureCount),
                                   classes: UInt64(data.classCount), addedAt: now())
        try store.saveDataset(record)
        return record
    }

    private func storedTotals() -> (samples: UInt64, bytes: UInt64) {
        if let stored { return stored }
        let record = try? store.dataset(named: name)
        let totals = (record?.samples ?? 0, record?.bytes ?? 0)
        stored = totals
        return totals
    }

    /// The bytes `DatasetFile.encodeCSV` writes for the row.
    private static func lineBytes(_ row: ArraySlice<Float>, label: Int) -> Int {
        row.reduce(0) { $0 + $1.description.utf8.count + 1 } + String(label).utf8.count + 1
    }
}
