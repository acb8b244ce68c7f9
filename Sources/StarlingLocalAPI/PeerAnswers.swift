/// `members` ← `{"members":[…]}`, sorted by name.
public struct MembersResponse: Codable, Equatable, Sendable {
    public var members: [Member]
    public init(members: [Member]) { self.members = members }
}

/// A member as the local API reports it.
public struct Member: Codable, Equatable, Sendable {
    public var name: String
    /// The full NodeID (64 hex characters).
    public var node: String
    public var address: String
    /// alive, suspect, dead or left.
    public var state: String
    public var incarnation: UInt64
    public var tags: [String: String]
    /// True for the peer that answered.
    public var local: Bool

    public init(name: String, node: String, address: String, state: String, incarnation: UInt64, tags: [String: String],
                local: Bool) {
        self.name = name
        self.node = node
        self.address = address
        self.state = state
        self.incarnation = incarnation
        self.tags = tags
        self.local = local
    }
}

/// `counters` ← `{"counters":{"name":count,…}}`
public struct CountersResponse: Codable, Equatable, Sendable {
    public var counters: [String: UInt64]
    public init(counters: [String: UInt64]) { self.counters = counters }
}

/// What the peer's control plane answers (`keyring`, `keyring-status`, `task-submit`,
/// `task-cancel`): whether it was done, why, and values by name.
public struct ControlResponse: Codable, Equatable, Sendable {
    public var ok: Bool
    public var message: String
    public var fields: [String: String]

    public init(ok: Bool, message: String, fields: [String: String] = [:]) {
        self.ok = ok
        self.message = message
        self.fields = fields
    }
}

/// Whether a request was done, and what happened, in words (`worker-submit`, `worker-fail`,
/// `worker-evaluated`, `dataset-remove`, `model-remove`).
public struct OutcomeResponse: Codable, Equatable, Sendable {
    public var ok: Bool
    public var message: String

    public init(ok: Bool, message: String) {
        self.ok = ok
        self.message = message
    }
}
