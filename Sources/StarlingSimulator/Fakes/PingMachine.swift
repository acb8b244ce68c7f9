import StarlingMembership
import StarlingPeer

/// The cheapest useful machine: every `interval` it pings one random neighbour, answers pings with
/// acks and counts acks. It exists to measure the engine itself (`EngineBenchmark`) and to test
/// it; it keeps no membership (its view is empty). It is 24 bytes, so an `any PeerMachine` holds
/// it inline, without a heap box.
public struct PingMachine: PeerMachine {
    public let neighbors: [PeerAddress]
    let intervalNanoseconds: Int64
    public var interval: Duration { .nanoseconds(intervalNanoseconds) }
    /// Shared by every machine, so the engine's hot path touches one payload, not 10,000.
    static let ping: [UInt8] = [1] + [UInt8](repeating: 0xAB, count: 47)
    static let ack: [UInt8] = [2] + [UInt8](repeating: 0xCD, count: 47)
    public private(set) var pingsSent: UInt32 = 0
    public private(set) var acksReceived: UInt32 = 0
    static let tick = TimerID(1)

    /// Pings and acks are 48 bytes.
    public init(neighbors: [PeerAddress], interval: Duration = .seconds(1)) {
        self.neighbors = neighbors
        self.intervalNanoseconds = interval.nanoseconds
    }

    public var members: [MemberView] { [] }

    public var counters: [String: UInt64] {
        ["ping.sent": UInt64(pingsSent), "ping.acks": UInt64(acksReceived)]
    }

    public mutating func handle<R: RandomNumberGenerator>(_ input: PeerInput, now: Instant, random: inout R) -> [PeerEffect] {
        switch input {
        case .start:
            // Spread the first tick over one interval so nodes do not beat in lockstep.
            let phase = Int64(random.next() % UInt64(max(1, intervalNanoseconds)))
            return [.setTimer(Self.tick, at: Instant(nanoseconds: now.nanoseconds + phase))]
        case .timerFired:
            let next = Instant(nanoseconds: now.nanoseconds + intervalNanoseconds)
            guard !neighbors.isEmpty else { return [.setTimer(Self.tick, at: next)] }
            pingsSent &+= 1
            let target = neighbors[Int(random.next() % UInt64(neighbors.count))]
            return [.sendDatagram(Self.ping, to: target), .setTimer(Self.tick, at: next)]
        case let .datagram(bytes, source):
            if bytes.first == 1 { return [.sendDatagram(Self.ack, to: source)] }
            acksReceived &+= 1
            return []
        case let .requestReceived(reply, bytes, _):
            return [.sendReply(reply, bytes)]
        case .responseReceived, .workDone:
            return []
        case .leave:
            return [.cancelTimer(Self.tick), .left]
        }
    }
}
