import Foundation
import GRDB

/// A starting model imported on this peer (`starling model import NAME --path FILE`): the name a
/// task spec gives (`aggregationWorker.model.name`) and the blob that holds its contents.
public struct ImportedModelRecord: Sendable, Equatable, Codable {
    public var name: String
    /// The blob id (64 hex).
    public var hash: String
    /// The file it was imported from (absolute), as given.
    public var path: String
    public var bytes: UInt64
    public var tensors: UInt64
    public var parameters: UInt64
    public var importedAt: UInt64

    public init(name: String, hash: String, path: String, bytes: UInt64, tensors: UInt64, parameters: UInt64,
                importedAt: UInt64) {
        self.name = name
        self.hash = hash
        self.path = path
        self.bytes = bytes
        self.tensors = tensors
        self.parameters = parameters
        self.importedAt = importedAt
    }
}

extension Store {
    /// Records `model` under its name in one transaction, replacing the model of that name;
    /// returns the record it replaced, if any.
    @discardableResult
    public func saveImportedModel(_ model: ImportedModelRecord) throws -> ImportedModelRecord? {
        try database.write { db in
            let previous = try Row.fetchOne(db, sql: "SELECT * FROM imported_models WHERE name = ?", arguments: [model.name])
                .map(Self.importedModel)
            try db.execute(
                sql: """
                    INSERT INTO imported_models (name, hash, path, bytes, tensors, parameters, imported_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET hash = excluded.hash, path = excluded.path, bytes = excluded.bytes,
                        tensors = excluded.tensors, parameters = excluded.parameters, imported_at = excluded.imported_at
                    """,
                arguments: [model.name, model.hash, model.path, Int64(model.bytes), Int64(model.tensors),
                            Int64(model.parameters), Int64(model.importedAt)])
            return previous
        }
    }

    /// Forgets the imported model `name`; returns its record, or nil when there was none.
    public func removeImportedModel(named name: String) throws -> ImportedModelRecord? {
        try database.write { db in
            let previous = try Row.fetchOne(db, sql: "SELECT * FROM imported_models WHERE name = ?", arguments: [name])
                .map(Self.importedModel)
            try db.execute(sql: "DELETE FROM imported_models WHERE name = ?", arguments: [name])
            return previous
        }
    }

    /// Every imported model, by name.
    public func importedModels() throws -> [ImportedModelRecord] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM imported_models ORDER BY name").map(Self.importedModel)
        }
    }

    private static func importedModel(_ row: Row) -> ImportedModelRecord {
        ImportedModelRecord(name: row["name"], hash: row["hash"], path: row["path"], bytes: UInt64(row["bytes"] as Int64),
                            tensors: UInt64(row["tensors"] as Int64), parameters: UInt64(row["parameters"] as Int64),
                            importedAt: UInt64(row["imported_at"] as Int64))
    }
}

extension StoreSchema {
    static func createImportedModelTable(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE imported_models (
                name TEXT PRIMARY KEY,
                hash TEXT NOT NULL,
                path TEXT NOT NULL,
                bytes INTEGER NOT NULL,
                tensors INTEGER NOT NULL,
                parameters INTEGER NOT NULL,
                imported_at INTEGER NOT NULL
            );
            """)
    }
}
