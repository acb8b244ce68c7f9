import Foundation
import GRDB

/// A dataset registered on this peer (`starling dataset add`): where its file is and what it holds.
/// Rows never leave the peer; only the name, format, size and sample count are gossiped.
///
/// `bytes` and `samples` are totals over the registered file and its arrivals (`dataset append`,
/// `DatasetArrival`), and `classes` the largest of theirs: what the peer gossips, and the row index
/// space of `ArrivalSplit` (the file's rows, then each arrival's in sequence order).
public struct DatasetRecord: Sendable, Equatable, Codable {
    public var name: String
    /// Absolute path of the registered data file (never moved nor modified by the peer).
    public var path: String
    /// csv or npz (of the registered file; each arrival names its own).
    public var format: String
    public var bytes: UInt64
    public var samples: UInt64
    public var features: UInt64
    public var classes: UInt64
    public var addedAt: UInt64

    public init(name: String, path: String, format: String, bytes: UInt64, samples: UInt64, features: UInt64,
                classes: UInt64, addedAt: UInt64) {
        self.name = name
        self.path = path
        self.format = format
        self.bytes = bytes
        self.samples = samples
        self.features = features
        self.classes = classes
        self.addedAt = addedAt
    }
}

extension Store {
    /// Adds or replaces (same name) a dataset, with the totals of its file alone. A replaced
    /// dataset's arrivals are dropped in the same transaction; returns their paths, so the caller
    /// deletes the files.
    @discardableResult
    public func saveDataset(_ dataset: DatasetRecord) throws -> [String] {
        try database.write { db in
            let dropped = try Self.dropArrivals(db, dataset.name)
            try db.execute(
                sql: """
                    INSERT INTO datasets (name, path, format, bytes, samples, features, classes, added_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET path = excluded.path, format = excluded.format,
                        bytes = excluded.bytes, samples = excluded.samples, features = excluded.features,
                        classes = excluded.classes, added_at = excluded.added_at
                    """,
                arguments: [dataset.name, dataset.path, dataset.format, Int64(dataset.bytes), Int64(dataset.samples),
                            Int64(dataset.features), Int64(dataset.classes), Int64(dataset.addedAt)])
            return dropped
        }
    }

    /// Forgets the dataset `name` and its arrivals in one transaction; returns the arrivals' paths
    /// (so the caller deletes the files), or nil when there was no such dataset.
    public func removeDataset(named name: String) throws -> [String]? {
        try database.write { db in
            let dropped = try Self.dropArrivals(db, name)
            try db.execute(sql: "DELETE FROM datasets WHERE name = ?", arguments: [name])
            return db.changesCount > 0 ? dropped : nil
        }
    }

    /// Every dataset, by name.
    public func datasets() throws -> [DatasetRecord] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM datasets ORDER BY name").map(Self.dataset)
        }
    }

    /// The dataset `name`, or nil.
    public func dataset(named name: String) throws -> DatasetRecord? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM datasets WHERE name = ?", arguments: [name]).map(Self.dataset)
        }
    }

    static func dataset(_ row: Row) -> DatasetRecord {
        DatasetRecord(name: row["name"], path: row["path"], format: row["format"],
                      bytes: UInt64(row["bytes"] as Int64), samples: UInt64(row["samples"] as Int64),
                      features: UInt64(row["features"] as Int64), classes: UInt64(row["classes"] as Int64),
                      addedAt: UInt64(row["added_at"] as Int64))
    }
}

/// A committed global model this peer holds in its blob store, with the commit that named it.
public struct ModelRecord: Sendable, Equatable, Codable {
    /// The blob id (64 hex).
    public var hash: String
    public var task: String
    public var taskName: String
    public var round: UInt64
    public var epoch: UInt64
    public var metrics: [String: Double]
    public var bytes: UInt64
    public var parameters: UInt64
    public var savedAt: UInt64

    public init(hash: String, task: String, taskName: String, round: UInt64, epoch: UInt64, metrics: [String: Double],
                bytes: UInt64, parameters: UInt64, savedAt: UInt64) {
        self.hash = hash
        self.task = task
        self.taskName = taskName
        self.round = round
        self.epoch = epoch
        self.metrics = metrics
        self.bytes = bytes
        self.parameters = parameters
        self.savedAt = savedAt
    }
}

extension Store {
    /// Records a model; returns the hashes of the task's models beyond `keep` (oldest rounds
    /// first), already removed from the table, so the caller can delete their blobs.
    public func saveModel(_ model: ModelRecord, keepPerTask keep: Int) throws -> [String] {
        try database.write { db in
            let metrics = String(decoding: try JSONEncoder().encode(model.metrics), as: UTF8.self)
            try db.execute(
                sql: """
                    INSERT INTO models (hash, task, task_name, round, epoch, metrics, bytes, parameters, saved_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(hash) DO UPDATE SET round = excluded.round, epoch = excluded.epoch,
                        metrics = excluded.metrics
                    """,
                arguments: [model.hash, model.task, model.taskName, Int64(model.round), Int64(model.epoch), metrics,
                            Int64(model.bytes), Int64(model.parameters), Int64(model.savedAt)])
            let old = try String.fetchAll(db, sql: """
                SELECT hash FROM models WHERE task = ? ORDER BY round DESC, saved_at DESC LIMIT -1 OFFSET ?
                """, arguments: [model.task, keep])
            for hash in old { try db.execute(sql: "DELETE FROM models WHERE hash = ?", arguments: [hash]) }
            return old
        }
    }

    /// Every model, newest first.
    public func models() throws -> [ModelRecord] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM models ORDER BY saved_at DESC, round DESC").map { row in
                let text: String = row["metrics"]
                let metrics = (try? JSONDecoder().decode([String: Double].self, from: Data(text.utf8))) ?? [:]
                return ModelRecord(hash: row["hash"], task: row["task"], taskName: row["task_name"],
                                   round: UInt64(row["round"] as Int64), epoch: UInt64(row["epoch"] as Int64),
                                   metrics: metrics, bytes: UInt64(row["bytes"] as Int64),
                                   parameters: UInt64(row["parameters"] as Int64), savedAt: UInt64(row["saved_at"] as Int64))
            }
        }
    }
}

extension StoreSchema {
    static func createLearningTables(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE datasets (
                name TEXT PRIMARY KEY,
                path TEXT NOT NULL,
                format TEXT NOT NULL,
                bytes INTEGER NOT NULL,
                samples INTEGER NOT NULL,
                features INTEGER NOT NULL,
                classes INTEGER NOT NULL,
                added_at INTEGER NOT NULL
            );
            CREATE TABLE models (
                hash TEXT PRIMARY KEY,
                task TEXT NOT NULL,
                task_name TEXT NOT NULL,
                round INTEGER NOT NULL,
                epoch INTEGER NOT NULL,
                metrics TEXT NOT NULL,
                bytes INTEGER NOT NULL,
                parameters INTEGER NOT NULL,
                saved_at INTEGER NOT NULL
            );
            CREATE INDEX models_by_task ON models (task, round);
            """)
    }
}
