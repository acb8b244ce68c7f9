import StarlingTrust

/// Why a signed spec or an entry was refused. Every refusal names its reason, so a peer can count
/// drops by cause and log the first of each.
public enum TaskRejection: Error, Equatable, Sendable, CustomStringConvertible {
    /// The entry names another task.
    case wrongTask
    /// The author is not a member with a known certificate.
    case unknownAuthor(NodeID)
    /// The author's certificate lacks a role this kind of record needs.
    case missingRole(NodeID, needs: Roles)
    /// The Ed25519 signature does not verify.
    case badSignature
    /// The record breaks a rule of its kind (an epoch of 0, a holder that is not the author, ...).
    case invalid(String)
    /// The task already holds `TaskStateLimits.entriesMax` entries.
    case limitReached

    public var description: String {
        switch self {
        case .wrongTask: return "the entry belongs to another task"
        case let .unknownAuthor(node): return "unknown author \(node.short)"
        case let .missingRole(node, needs): return "\(node.short) lacks the \(needs) role"
        case .badSignature: return "bad signature"
        case let .invalid(reason): return reason
        case .limitReached: return "the task holds \(TaskStateLimits.entriesMax) entries already"
        }
    }
}

/// The roles each member's certificate grants; nil for a node that is not a known member. The
/// caller builds it from its membership view, so revoked or unknown nodes are refused.
public typealias RoleLookup = (NodeID) -> Roles?
