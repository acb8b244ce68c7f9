import StarlingMembership
import StarlingPeer
import StarlingTrust

/// Who is who, shared by every `HeartbeatMachine` of one simulation, so heartbeat messages can name
/// members by a 4-byte number instead of key, name and address (a fake may cheat where the real
/// peer must not). Single-threaded, like the simulation.
public final class HeartbeatDirectory {
    public private(set) var identities: [HeartbeatMachine.Identity] = []
    private var numbers: [NodeID: UInt32] = [:]

    public init() {}

    /// The member's number (registering it the first time).
    public func number(of identity: HeartbeatMachine.Identity) -> UInt32 {
        if let known = numbers[identity.node] { return known }
        let number = UInt32(identities.count)
        identities.append(identity)
        numbers[identity.node] = number
        return number
    }

    func identity(_ number: UInt32) -> HeartbeatMachine.Identity? {
        Int(number) < identities.count ? identities[Int(number)] : nil
    }
}
