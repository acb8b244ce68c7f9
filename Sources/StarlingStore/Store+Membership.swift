import GRDB

/// What a peer keeps of membership across restarts: the highest incarnation it announced (a
/// restart must start above it, or its fresh claims would lose to its own old ones) and the
/// addresses of members last seen alive (to rejoin from when the bootstrap list is unreachable).
///
/// Addresses are kept as host text and port, the store's own terms, so the store does not depend on
/// the peer's types; the runtime converts to and from `PersistedState`.
public struct StoredMembership: Equatable, Sendable {
    public struct Address: Hashable, Sendable {
        public var host: String
        public var port: UInt16
        public init(host: String, port: UInt16) {
            self.host = host
            self.port = port
        }
    }

    public var incarnation: UInt64
    public var knownPeers: [Address]

    public init(incarnation: UInt64 = 0, knownPeers: [Address] = []) {
        self.incarnation = incarnation
        self.knownPeers = knownPeers
    }
}

extension Store {
    /// At most this many known peers are kept (the first ones given); enough to rejoin any cluster.
    public static let knownPeersMax = 1_024

    /// Replaces the stored membership facts, in one transaction. The incarnation never goes down:
    /// a lower one than stored is a caller bug that would let old claims win, so the higher is kept.
    public func saveMembership(_ membership: StoredMembership) throws {
        try database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO membership (id, incarnation) VALUES (1, ?)
                    ON CONFLICT(id) DO UPDATE SET incarnation = max(incarnation, excluded.incarnation)
                    """,
                arguments: [Int64(bitPattern: membership.incarnation)])
            try db.execute(sql: "DELETE FROM known_peers")
            var seen = Set<StoredMembership.Address>()
            for (position, address) in membership.knownPeers.enumerated() where seen.count < Self.knownPeersMax {
                guard seen.insert(address).inserted else { continue }
                try db.execute(
                    sql: "INSERT INTO known_peers (position, host, port) VALUES (?, ?, ?)",
                    arguments: [position, address.host, Int(address.port)])
            }
        }
    }

    /// The stored facts; an empty record (incarnation 0, no peers) for a new store.
    public func membership() throws -> StoredMembership {
        try database.read { db in
            let incarnation = try Int64.fetchOne(db, sql: "SELECT incarnation FROM membership WHERE id = 1") ?? 0
            let rows = try Row.fetchAll(db, sql: "SELECT host, port FROM known_peers ORDER BY position")
            let peers = try rows.map { row -> StoredMembership.Address in
                let host: String = row["host"]
                let port: Int = row["port"]
                guard !host.isEmpty, let port = UInt16(exactly: port), port != 0 else {
                    throw StoreError("store record (known peer)", "damaged: '\(host)' port \(port)")
                }
                return StoredMembership.Address(host: host, port: port)
            }
            return StoredMembership(incarnation: UInt64(bitPattern: incarnation), knownPeers: peers)
        }
    }
}

extension StoreSchema {
    /// Membership facts kept across restarts (see `StoredMembership`).
    static func createMembershipTables(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE membership (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                incarnation INTEGER NOT NULL
            );
            CREATE TABLE known_peers (
                position INTEGER NOT NULL,
                host TEXT NOT NULL,
                port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
                PRIMARY KEY (host, port)
            );
            """)
    }
}
