import GRDB

/// The schema, as an append-only list of migrations. GRDB records applied migrations in its
/// `grdb_migrations` table, which is the store's version table: a store opened by a newer build is
/// migrated forward in one transaction per step; never edit a migration once released.
enum StoreSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-trust") { db in
            try db.execute(sql: """
                CREATE TABLE identity (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    node_id BLOB NOT NULL CHECK (length(node_id) = 32),
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE authority (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    public_key BLOB NOT NULL CHECK (length(public_key) = 32)
                );
                CREATE TABLE certificates (
                    node_id BLOB PRIMARY KEY CHECK (length(node_id) = 32),
                    name TEXT NOT NULL,
                    not_after INTEGER NOT NULL,
                    encoded BLOB NOT NULL
                );
                CREATE TABLE revocations (
                    node_id BLOB PRIMARY KEY CHECK (length(node_id) = 32),
                    revoked_at INTEGER NOT NULL,
                    encoded BLOB NOT NULL
                );
                """)
        }
        migrator.registerMigration("v2-membership", migrate: createMembershipTables)
        migrator.registerMigration("v3-tasks", migrate: createTaskTables)
        migrator.registerMigration("v4-learning", migrate: createLearningTables)
        migrator.registerMigration("v5-imported-models", migrate: createImportedModelTable)
        migrator.registerMigration("v6-dataset-arrivals", migrate: createDatasetArrivalTable)
        return migrator
    }
}
