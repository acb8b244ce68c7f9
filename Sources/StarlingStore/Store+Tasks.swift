import Foundation
import GRDB

/// Tasks a peer holds, kept across restarts: each task's replicated state as the opaque bytes the
/// peer gives (its canonical encoding), keyed by the task id's 32 bytes. A write replaces the
/// task's row in one transaction, so a peer killed at any instant finds the last complete state.
extension Store {
    public func saveTask(id: [UInt8], state: [UInt8]) throws {
        try database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO tasks (id, state) VALUES (?, ?)
                    ON CONFLICT(id) DO UPDATE SET state = excluded.state
                    """,
                arguments: [Data(id), Data(state)])
        }
    }

    /// Every stored task's state bytes, in id order.
    public func loadTasks() throws -> [[UInt8]] {
        try database.read { db in
            try Data.fetchAll(db, sql: "SELECT state FROM tasks ORDER BY id").map { [UInt8]($0) }
        }
    }
}

extension StoreSchema {
    static func createTaskTables(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE tasks (
                id BLOB PRIMARY KEY CHECK (length(id) = 32),
                state BLOB NOT NULL
            );
            """)
    }
}
