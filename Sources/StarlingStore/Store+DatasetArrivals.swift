import GRDB

/// Samples appended to a registered dataset (`starling dataset append`): one file the peer keeps
/// under `DATA/datasets/NAME/arrival-SEQUENCE.FORMAT`, numbered 1, 2, … in the order they came.
/// The dataset's rows are its registered file's, then each arrival's in sequence order: the row
/// index space `ArrivalSplit` draws in.
public struct DatasetArrival: Sendable, Equatable, Codable {
    public var dataset: String
    /// 1 for the first arrival of a dataset, then one more for each.
    public var sequence: UInt64
    /// Absolute path of the peer's copy.
    public var path: String
    /// csv or npz.
    public var format: String
    public var samples: UInt64
    public var bytes: UInt64
    /// Unix seconds.
    public var arrivedAt: UInt64

    public init(dataset: String, sequence: UInt64, path: String, format: String, samples: UInt64, bytes: UInt64,
                arrivedAt: UInt64) {
        self.dataset = dataset
        self.sequence = sequence
        self.path = path
        self.format = format
        self.samples = samples
        self.bytes = bytes
        self.arrivedAt = arrivedAt
    }
}

/// The bounds `Store.appendArrival` keeps a dataset within (the runtime names them, in
/// `DatasetLimits`): checked in the transaction that would cross them, so no arrival is recorded
/// beyond them.
public struct DatasetArrivalLimits: Sendable, Equatable {
    public var arrivalsMax: UInt64
    /// Of the file and every arrival together.
    public var bytesMax: UInt64
    public var samplesMax: UInt64

    public init(arrivalsMax: UInt64, bytesMax: UInt64, samplesMax: UInt64) {
        self.arrivalsMax = arrivalsMax
        self.bytesMax = bytesMax
        self.samplesMax = samplesMax
    }
}

extension Store {
    /// The sequence the next arrival of `dataset` takes (1 for its first); nil when no dataset
    /// has that name.
    public func nextArrivalSequence(of dataset: String) throws -> UInt64? {
        try database.read { db in
            guard try Int64.fetchOne(db, sql: "SELECT 1 FROM datasets WHERE name = ?", arguments: [dataset]) != nil else { return nil }
            return try Self.nextSequence(db, dataset)
        }
    }

    /// Records `arrival` and adds it to its dataset's totals in one transaction: `samples` and
    /// `bytes` grow by the arrival's, `classes` becomes the larger of the dataset's and
    /// `classes` (an arrival may bring new classes). Returns the dataset with its new totals.
    /// Refuses (changing nothing) an unknown dataset, a sequence other than the next, and an
    /// arrival that would take the dataset past `limits`.
    @discardableResult
    public func appendArrival(_ arrival: DatasetArrival, classes: UInt64, limits: DatasetArrivalLimits) throws -> DatasetRecord {
        try database.write { db in
            let subject = "dataset \(arrival.dataset)"
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM datasets WHERE name = ?", arguments: [arrival.dataset]) else {
                throw StoreError(subject, "no such dataset on this peer")
            }
            var dataset = Self.dataset(row)
            let next = try Self.nextSequence(db, arrival.dataset)
            guard arrival.sequence == next else {
                throw StoreError(subject, "arrival \(arrival.sequence) is not the next one (\(next))")
            }
            guard arrival.sequence <= limits.arrivalsMax else {
                throw StoreError(subject, "has \(arrival.sequence - 1) arrivals, the most one dataset may have (DatasetLimits.arrivalsMax)")
            }
            let (bytes, bytesOverflow) = dataset.bytes.addingReportingOverflow(arrival.bytes)
            guard !bytesOverflow, bytes <= limits.bytesMax else {
                throw StoreError(subject, "holds \(dataset.bytes) bytes; \(arrival.bytes) more would pass the limit of "
                    + "\(limits.bytesMax) bytes (DatasetLimits.bytesMax)")
            }
            let (samples, samplesOverflow) = dataset.samples.addingReportingOverflow(arrival.samples)
            guard !samplesOverflow, samples <= limits.samplesMax else {
                throw StoreError(subject, "holds \(dataset.samples) samples; \(arrival.samples) more would pass the limit of "
                    + "\(limits.samplesMax) samples (DatasetLimits.rowsMax)")
            }
            dataset.bytes = bytes
            dataset.samples = samples
            dataset.classes = max(dataset.classes, classes)
            try db.execute(
                sql: """
                    INSERT INTO dataset_arrivals (dataset, sequence, path, format, samples, bytes, arrived_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [arrival.dataset, Int64(arrival.sequence), arrival.path, arrival.format, Int64(arrival.samples),
                            Int64(arrival.bytes), Int64(clamping: arrival.arrivedAt)])
            try db.execute(sql: "UPDATE datasets SET bytes = ?, samples = ?, classes = ? WHERE name = ?",
                           arguments: [Int64(dataset.bytes), Int64(dataset.samples), Int64(dataset.classes), dataset.name])
            return dataset
        }
    }

    /// The arrivals of `dataset`, in sequence order.
    public func arrivals(of dataset: String) throws -> [DatasetArrival] {
        try database.read { db in try Self.arrivals(db, dataset) }
    }

    /// How many arrivals each dataset with any has.
    public func arrivalCounts() throws -> [String: UInt64] {
        try database.read { db in
            var counts: [String: UInt64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT dataset, COUNT(*) AS n FROM dataset_arrivals GROUP BY dataset") {
                counts[row["dataset"]] = UInt64(row["n"] as Int64)
            }
            return counts
        }
    }

    static func arrivals(_ db: Database, _ dataset: String) throws -> [DatasetArrival] {
        try Row.fetchAll(db, sql: "SELECT * FROM dataset_arrivals WHERE dataset = ? ORDER BY sequence", arguments: [dataset]).map { row in
            DatasetArrival(dataset: row["dataset"], sequence: UInt64(row["sequence"] as Int64), path: row["path"],
                           format: row["format"], samples: UInt64(row["samples"] as Int64), bytes: UInt64(row["bytes"] as Int64),
                           arrivedAt: UInt64(row["arrived_at"] as Int64))
        }
    }

    /// Forgets every arrival of `dataset`; returns their paths, so the caller deletes the files.
    static func dropArrivals(_ db: Database, _ dataset: String) throws -> [String] {
        let paths = try arrivals(db, dataset).map(\.path)
        try db.execute(sql: "DELETE FROM dataset_arrivals WHERE dataset = ?", arguments: [dataset])
        return paths
    }

    private static func nextSequence(_ db: Database, _ dataset: String) throws -> UInt64 {
        let last = try Int64.fetchOne(db, sql: "SELECT MAX(sequence) FROM dataset_arrivals WHERE dataset = ?", arguments: [dataset]) ?? 0
        return UInt64(last) + 1
    }
}

extension StoreSchema {
    static func createDatasetArrivalTable(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE dataset_arrivals (
                dataset TEXT NOT NULL,
                sequence INTEGER NOT NULL,
                path TEXT NOT NULL,
                format TEXT NOT NULL,
                samples INTEGER NOT NULL,
                bytes INTEGER NOT NULL,
                arrived_at INTEGER NOT NULL,
                PRIMARY KEY (dataset, sequence)
            );
            """)
    }
}
