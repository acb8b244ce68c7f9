/// A member's state in the SWIM sense. `left` is a graceful departure, `dead` a detected failure.
public enum MemberState: UInt8, Sendable, Equatable, CaseIterable, CustomStringConvertible {
    case alive = 0, suspect = 1, dead = 2, left = 3
    public var description: String {
        switch self {
        case .alive: return "alive"
        case .suspect: return "suspect"
        case .dead: return "dead"
        case .left: return "left"
        }
    }
}
