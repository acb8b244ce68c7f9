import StarlingMembership
import StarlingPeer
import StarlingStore

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
