import Foundation
import StarlingLearning
import StarlingStore

/// Appending samples to a registered dataset (`starling dataset append`, docs/cli.md): the file is
/// checked (its format decodes, its feature count is the dataset's, it holds rows, the dataset
/// stays within `DatasetLimits`), copied durably to
///
///     DATA/datasets/NAME/arrival-SEQUENCE.FORMAT
///
/// (temporary file, fsync, rename, fsync of the directory), then recorded in the store with the
/// dataset's new totals in one transaction. A refused append leaves no file and no row; the user's
/// file is only read. Plain functions: the caller runs them where its store writes are serial (the
/// loop's thread), so the sequence read before the copy is still the next one when it is recorded.
enum DatasetAppend {
    /// What an append recorded: the arrival and the dataset with its new totals.
    struct Outcome {
        let arrival: DatasetArrival
        let dataset: DatasetRecord
    }

    /// `DATA/datasets`: the peer's own copies of dataset files.
    static func directory(_ dataDirectory: String) -> String {
        WorkerLaunch.absolute("\(dataDirectory)/datasets", in: FileManager.default.currentDirectoryPath)
    }

    static func arrivalPath(_ dataDirectory: String, dataset: String, sequence: UInt64, format: DatasetFormat) -> String {
        "\(directory(dataDirectory))/\(dataset)/arrival-\(sequence).\(format.rawValue)"
    }

    /// Appends the file at `path` (read, bounded by its size first) to the dataset `name`.
    static func append(file path: String, format: DatasetFormat, to name: String, store: Store, dataDirectory: String,
                       now: UInt64) throws -> Outcome {
        let bytes: [UInt8]
        do {
            bytes = try POSIXFile.read(path, limit: LearningLimits.datasetBytesMax)
        } catch let error as StoreError {
            throw RuntimeError(error.description)
        }
        return try append(bytes, format: format, from: path, to: name, store: store, dataDirectory: dataDirectory, now: now)
    }

    /// Appends `bytes` (a data file in `format`; `source` names it in errors) to the dataset `name`.
    static func append(_ bytes: [UInt8], format: DatasetFormat, from source: String, to name: String, store: Store,
                       dataDirectory: String, now: UInt64) throws -> Outcome {
        guard let dataset = try store.dataset(named: name) else {
            throw RuntimeError("no dataset \(name) on this peer (starling dataset add \(name) --path FILE registers one)")
        }
        let data: LabeledData
        do {
            data = try DatasetFile.decode(bytes, format: format)
        } catch {
            throw RuntimeError("\(source): \(error)")
        }
        guard data.count > 0 else { throw RuntimeError("\(source): no samples") }
        guard UInt64(data.featureCount) == dataset.features else {
            throw RuntimeError("dataset \(name) has \(dataset.features) features; \(source) has \(data.featureCount)")
        }
        guard let sequence = try store.nextArrivalSequence(of: name) else { throw RuntimeError("no dataset \(name) on this peer") }
        try check(dataset, adding: UInt64(data.count), bytes: UInt64(bytes.count), sequence: sequence)
        let target = arrivalPath(dataDirectory, dataset: name, sequence: sequence, format: format)
        let arrival = DatasetArrival(dataset: name, sequence: sequence, path: target, format: format.rawValue,
                                     samples: UInt64(data.count), bytes: UInt64(bytes.count), arrivedAt: now)
        do {
            try POSIXFile.makeDirectories(POSIXFile.parentDirectory(of: target))
            // A file already at `target` has no row (the store names `sequence` the next): it is
            // what a crash between copy and record left, and is replaced.
            try POSIXFile.writeAtomically(bytes, to: target, mode: 0o600, replace: true)
        } catch {
            try? POSIXFile.remove(target)
            throw RuntimeError("cannot keep a copy of \(source): \(error)")
        }
        do {
            let updated = try store.appendArrival(arrival, classes: UInt64(data.classCount), limits: DatasetLimits.arrival)
            return Outcome(arrival: arrival, dataset: updated)
        } catch {
            try? POSIXFile.remove(target)
            throw RuntimeError("cannot record the arrival: \(error)")
        }
    }

    /// Refuses an arrival that would take `dataset` past `DatasetLimits` (the store checks again
    /// when it records it; this check comes before any file is written).
    static func check(_ dataset: DatasetRecord, adding samples: UInt64, bytes: UInt64, sequence: UInt64) throws {
        guard sequence <= DatasetLimits.arrivalsMax else {
            throw RuntimeError("dataset \(dataset.name) has \(sequence - 1) arrivals, the most one dataset may have "
                + "(DatasetLimits.arrivalsMax); register its rows anew with starling dataset add")
        }
        guard dataset.bytes + bytes <= DatasetLimits.bytesMax else {
            throw RuntimeError("dataset \(dataset.name) holds \(dataset.bytes) bytes; \(bytes) more would pass the limit of "
                + "\(DatasetLimits.bytesMax) bytes (DatasetLimits.bytesMax)")
        }
        guard dataset.samples + samples <= DatasetLimits.rowsMax else {
            throw RuntimeError("dataset \(dataset.name) holds \(dataset.samples) samples; \(samples) more would pass the limit of "
                + "\(DatasetLimits.rowsMax) samples (DatasetLimits.rowsMax)")
        }
    }

    /// Deletes the files of arrivals the store dropped (a replaced or removed dataset), and their
    /// directory when nothing else is left in it.
    static func removeFiles(_ paths: [String]) {
        for path in paths { try? POSIXFile.remove(path) }
        for directory in Set(paths.map(POSIXFile.parentDirectory)) { rmdir(directory) }
    }

    /// At start-up: removes every file under `DATA/datasets/*/` that no dataset or arrival of the
    /// store names. Those are what a crash left between an arrival's copy and its record (or a
    /// temporary file of an unfinished copy): never counted, never read, so removed rather than
    /// kept. Returns how many were removed.
    @discardableResult
    static func removeUnrecorded(store: Store, dataDirectory: String) throws -> Int {
        let root = directory(dataDirectory)
        guard POSIXFile.isDirectory(root) else { return 0 }
        let datasets = try store.datasets()
        var recorded = Set(datasets.map(\.path))
        for dataset in datasets { recorded.formUnion(try store.arrivals(of: dataset.name).map(\.path)) }
        var removed = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            let folder = "\(root)/\(name)"
            guard POSIXFile.isDirectory(folder) else { continue }
            for file in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where !recorded.contains("\(folder)/\(file)") {
                if (try? POSIXFile.remove("\(folder)/\(file)")) != nil { removed += 1 }
            }
            rmdir(folder)
        }
        return removed
    }
}
