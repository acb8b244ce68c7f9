import Foundation
import GRDB
import StarlingCrypto
import StarlingTrust
import StarlingWire

/// A peer's durable state: SQLite in WAL mode plus a blob directory, under one data directory.
///
///     DIR/starling.db      identity, authority, certificates, revocations (later: peers, tasks, rounds)
///     DIR/blobs/           content-addressed models and updates
///
/// Every write is a transaction; a peer killed at any instant reopens with everything it committed.
/// Records are stored as their canonical signed bytes and decoded (and so re-checked) on every read:
/// a damaged row is reported as such, never trusted.
public final class Store: Sendable {
    public static let databaseFileName = "starling.db"
    public static let blobDirectoryName = "blobs"

    public let directory: String
    public let blobs: BlobStore
    /// Internal so that each feature's records can live in a file of their own (`Store+*.swift`).
    let database: DatabasePool

    public init(directory: String) throws {
        self.directory = directory
        try POSIXFile.makeDirectories(directory)
        var configuration = Configuration()
        configuration.busyMode = .timeout(StoreLimits.busyTimeoutSeconds)
        configuration.label = "starling-store"
        let path = "\(directory)/\(Self.databaseFileName)"
        do {
            database = try DatabasePool(path: path, configuration: configuration)
            try StoreSchema.migrator.migrate(database)
        } catch {
            throw StoreError(path, "cannot open the store: \(error)")
        }
        blobs = try BlobStore(directory: "\(directory)/\(Self.blobDirectoryName)")
    }

    /// Identifiers of the schema migrations applied, oldest first.
    public func appliedMigrations() throws -> [String] {
        try database.read { try StoreSchema.migrator.appliedMigrations($0) }
    }

    /// SQLite's journal mode; "wal" for every store.
    public func journalMode() throws -> String {
        try database.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") ?? "" }
    }

    // MARK: Identity

    /// Records which node this data directory belongs to. The first call sets it; later calls must
    /// name the same node, so an identity file swapped under an existing store is caught.
    public func bindIdentity(_ node: NodeID, now: UInt64) throws {
        try database.write { db in
            if let existing = try Data.fetchOne(db, sql: "SELECT node_id FROM identity WHERE id = 1") {
                guard [UInt8](existing) == node.publicKey.bytes else {
                    throw StoreError(directory, "this store belongs to node \(Hex.encode([UInt8](existing))), "
                        + "not to \(node); use the identity it was created with or a new data directory")
                }
                return
            }
            try db.execute(sql: "INSERT INTO identity (id, node_id, created_at) VALUES (1, ?, ?)",
                           arguments: [Data(node.publicKey.bytes), Int64(clamping: now)])
        }
    }

    public func identity() throws -> NodeID? {
        try database.read { db in
            guard let bytes = try Data.fetchOne(db, sql: "SELECT node_id FROM identity WHERE id = 1") else { return nil }
            return NodeID(try PublicKey(bytes: [UInt8](bytes)))
        }
    }

    // MARK: Authority

    /// Sets the cluster authority this store trusts. It may be set once; a different key later is
    /// refused (joining another cluster needs a new data directory).
    public func bindAuthority(_ key: PublicKey) throws {
        try database.write { db in
            if let existing = try Data.fetchOne(db, sql: "SELECT public_key FROM authority WHERE id = 1") {
                guard [UInt8](existing) == key.bytes else {
                    throw StoreError(directory, "this store trusts authority \(Hex.encode([UInt8](existing))), not \(Hex.encode(key.bytes))")
                }
                return
            }
            try db.execute(sql: "INSERT INTO authority (id, public_key) VALUES (1, ?)", arguments: [Data(key.bytes)])
        }
    }

    public func authority() throws -> PublicKey? {
        try database.read { db in
            guard let bytes = try Data.fetchOne(db, sql: "SELECT public_key FROM authority WHERE id = 1") else { return nil }
            return try PublicKey(bytes: [UInt8](bytes))
        }
    }

    // MARK: Certificates

    /// Keeps the certificate for its node unless one that expires later is already stored.
    /// Callers verify before saving; the store keeps what it was given.
    public func saveCertificate(_ certificate: Certificate) throws {
        try database.write { db in
            let key = Data(certificate.node.publicKey.bytes)
            if let current = try Int64.fetchOne(db, sql: "SELECT not_after FROM certificates WHERE node_id = ?", arguments: [key]),
               current >= Int64(clamping: certificate.notAfter) {
                return
            }
            try db.execute(
                sql: """
                    INSERT INTO certificates (node_id, name, not_after, encoded) VALUES (?, ?, ?, ?)
                    ON CONFLICT(node_id) DO UPDATE SET name = excluded.name, not_after = excluded.not_after,
                        encoded = excluded.encoded
                    """,
                arguments: [key, certificate.name, Int64(clamping: certificate.notAfter), Data(certificate.wireBytes)])
        }
    }

    public func certificate(of node: NodeID) throws -> Certificate? {
        try database.read { db in
            try Data.fetchOne(db, sql: "SELECT encoded FROM certificates WHERE node_id = ?",
                              arguments: [Data(node.publicKey.bytes)])
                .map { try Self.decode(Certificate.self, $0, record: "certificate of \(node)") }
        }
    }

    public func certificates() throws -> [Certificate] {
        try database.read { db in
            try Data.fetchAll(db, sql: "SELECT encoded FROM certificates ORDER BY name, node_id")
                .map { try Self.decode(Certificate.self, $0, record: "certificate") }
        }
    }

    // MARK: Revocations

    /// Stores a revocation (keeping the earliest per node). Callers verify it first.
    public func saveRevocation(_ revocation: Revocation) throws {
        try database.write { db in
            let key = Data(revocation.node.publicKey.bytes)
            if let current = try Int64.fetchOne(db, sql: "SELECT revoked_at FROM revocations WHERE node_id = ?", arguments: [key]),
               current <= Int64(clamping: revocation.revokedAt) {
                return
            }
            try db.execute(
                sql: """
                    INSERT INTO revocations (node_id, revoked_at, encoded) VALUES (?, ?, ?)
                    ON CONFLICT(node_id) DO UPDATE SET revoked_at = excluded.revoked_at, encoded = excluded.encoded
                    """,
                arguments: [key, Int64(clamping: revocation.revokedAt), Data(revocation.wireBytes)])
            // A revoked node's certificate is useless; drop it in the same transaction.
            try db.execute(sql: "DELETE FROM certificates WHERE node_id = ?", arguments: [key])
        }
    }

    public func revocations() throws -> [Revocation] {
        try database.read { db in
            try Data.fetchAll(db, sql: "SELECT encoded FROM revocations ORDER BY node_id")
                .map { try Self.decode(Revocation.self, $0, record: "revocation") }
        }
    }

    private static func decode<T: WireDecodable>(_: T.Type, _ data: Data, record: String) throws -> T {
        do {
            return try T(wireBytes: [UInt8](data))
        } catch {
            throw StoreError("store record (\(record))", "damaged: \(error)")
        }
    }
}

