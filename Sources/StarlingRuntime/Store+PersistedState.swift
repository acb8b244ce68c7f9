import StarlingMembership
import StarlingPeer
import StarlingStore
import StarlingTasks

/// `PersistedState` (the machine's durable facts) in the store's own terms.
extension Store {
    public func save(_ state: PersistedState) throws {
        // A keyring changed by a cluster operation replaces DIR/keyring (read at the next start).
        if let keyring = state.keyring {
            try TrustFiles.write(.keyring(keyring), to: "\(directory)/keyring", replace: true)
        }
        try saveMembership(StoredMembership(
            incarnation: state.incarnation,
            knownPeers: state.knownPeers.map { StoredMembership.Address(host: $0.host, port: $0.port) }))
    }

    public func persistedState() throws -> PersistedState {
        let stored = try membership()
        return PersistedState(
            incarnation: stored.incarnation,
            knownPeers: stored.knownPeers.map { PeerAddress(host: $0.host, port: $0.port) })
    }
}

/// Tasks in the store: each task's replicated state in its canonical encoding.
extension Store {
    public func save(_ task: TaskState) throws {
        try saveTask(id: task.id.hash.bytes, state: task.wireBytes)
    }

    /// The stored tasks that still decode; `undecodable` counts the others (a store written by a
    /// newer build), which are left in place, untouched.
    public func storedTasks(undecodable: inout Int) throws -> [TaskState] {
        try loadTasks().compactMap { bytes in
            if let state = try? TaskState(wireBytes: bytes) { return state }
            undecodable += 1
            return nil
        }
    }
}
