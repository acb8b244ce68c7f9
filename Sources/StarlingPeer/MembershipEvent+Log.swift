import StarlingMembership

extension MembershipEvent {
    /// How drivers log the event: one line, the level an operator would filter on.
    public var logLine: (level: LogLevel, message: String) {
        switch self {
        case let .joined(node, name, address):
            return (.info, "member \(name) (\(node.short)) joined from \(address)")
        case let .stateChanged(node, name, state, incarnation):
            return (state == .alive ? .info : .notice, "member \(name) (\(node.short)) is \(state) at incarnation \(incarnation)")
        case let .refuted(incarnation):
            return (.notice, "refuted a suspicion about this node: now at incarnation \(incarnation)")
        case let .removed(node, name, reason):
            return (.info, "member \(name) (\(node.short)) removed: \(reason)")
        case let .rejected(reason):
            return (.error, reason)
        }
    }
}
