import StarlingLearning
import StarlingStore
import StarlingTasks

/// A dataset's rows as a worker is handed them: the registered file's rows, then each arrival's in
/// sequence order, as one `LabeledData` (docs/workers.md, "Datasets with arrivals"). Row n is the
/// n-th of that order: the index `ArrivalSplit` draws by, so the parts chosen here are the parts
/// every peer counts from gossiped sizes alone. Plain functions of the files; no loop.
enum DatasetRows {
    /// Which rows of a dataset.
    struct Selection: Equatable {
        /// Only the first this many rows (a watermark: the rows there were when a stage began);
        /// nil for all of them.
        var watermark: UInt64?
        /// Only the rows `ArrivalSplit` puts in this part; nil for both parts.
        var part: ArrivalSplit.Part?
        /// `dataset.trainProb`, in (0, 1] (read only with a part).
        var trainProbability: Double

        init(watermark: UInt64? = nil, part: ArrivalSplit.Part? = nil, trainProbability: Double = 1) {
            precondition(trainProbability > 0 && trainProbability <= 1, "trainProb is in (0, 1] (the spec reader checks it)")
            self.watermark = watermark
            self.part = part
            self.trainProbability = trainProbability
        }

        static let all = Selection()
    }

    /// The dataset `name` registered in `store` and its arrivals, as they are now; nil and none
    /// when there is no such dataset (or no store, or it cannot be read).
    static func registered(_ name: String?, in store: Store?) -> (record: DatasetRecord?, arrivals: [DatasetArrival]) {
        guard let name, let store, let record = try? store.dataset(named: name) else { return (nil, []) }
        return (record, (try? store.arrivals(of: name)) ?? [])
    }

    /// The rows of `dataset` (its file, then `arrivals` in order) that `selection` picks. Files past
    /// the watermark are not read. Throws when a file is unreadable, or its rows do not have the
    /// dataset's feature count.
    static func load(_ dataset: DatasetRecord, arrivals: [DatasetArrival], selection: Selection = .all) throws -> LabeledData {
        let sources = [(dataset.path, dataset.format)] + arrivals.sorted { $0.sequence < $1.sequence }.map { ($0.path, $0.format) }
        let wanted = selection.watermark ?? UInt64.max
        var features: [Float] = []
        var labels: [Int32] = []
        var classes = max(1, Int(dataset.classes))
        var row: UInt64 = 0
        for (path, formatName) in sources where row < wanted {
            let data = try read(path, format: formatName, dataset: dataset)
            classes = max(classes, data.classCount)
            for index in 0..<data.count where row < wanted {
                defer { row += 1 }
                if let part = selection.part,
                   ArrivalSplit.part(dataset: dataset.name, row: row, trainProbability: selection.trainProbability) != part {
                    continue
                }
                features.append(contentsOf: data.features[(index * data.featureCount)..<((index + 1) * data.featureCount)])
                labels.append(data.labels[index])
            }
        }
        do {
            return try LabeledData(features: features, labels: labels, featureCount: Int(dataset.features), classCount: classes)
        } catch {
            throw RuntimeError("dataset \(dataset.name): \(error)")
        }
    }

    /// Writes the rows `selection` picks as CSV (`DatasetFile.encodeCSV`, the form `dataset add`
    /// reads) to `path`, atomically; returns how many rows it holds (0: an empty file, which no
    /// worker can read, so callers check).
    @discardableResult
    static func materialize(_ dataset: DatasetRecord, arrivals: [DatasetArrival], selection: Selection = .all,
                            to path: String) throws -> Int {
        let data = try load(dataset, arrivals: arrivals, selection: selection)
        do {
            try POSIXFile.writeAtomically(DatasetFile.encodeCSV(data), to: path, mode: 0o600, replace: true)
        } catch {
            throw RuntimeError("cannot write the rows of dataset \(dataset.name) to \(path): \(error)")
        }
        return data.count
    }

    private static func read(_ path: String, format formatName: String, dataset: DatasetRecord) throws -> LabeledData {
        guard let format = DatasetFormat(rawValue: formatName) else {
            throw RuntimeError("dataset \(dataset.name): \(path) has unknown format \(formatName)")
        }
        let data: LabeledData
        do {
            data = try DatasetFile.decode(POSIXFile.read(path, limit: LearningLimits.datasetBytesMax), format: format)
        } catch {
            throw RuntimeError("dataset \(dataset.name): \(path): \(error)")
        }
        guard UInt64(data.featureCount) == dataset.features else {
            throw RuntimeError("dataset \(dataset.name) has \(dataset.features) features; \(path) has \(data.featureCount)")
        }
        return data
    }
}
