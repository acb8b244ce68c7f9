import StarlingMembership
import StarlingPeer
import StarlingTrust

/// A small gossip-heartbeat failure detector (van Renesse et al.), standing in for the SWIM peer
/// in engine tests and benchmarks.
///
/// Every `interval` a node bumps its heartbeat and pings `fanout` live members with its own entry
/// and a rotating slice of the members it believes alive; the receiver merges and answers with an
/// ack carrying the same. A member whose (incarnation, heartbeat) has not grown for `suspectAfter`
/// is suspect, for `deadAfter` dead. Incarnations start above both the persisted one and the local
/// clock (in ms), so a node restarted with a lost store is still seen as new. Members are named by
/// their number in a shared `HeartbeatDirectory`.
public struct HeartbeatMachine: PeerMachine {
    public struct Configuration: Sendable, Equatable {
        public var interval: Duration = .milliseconds(300)
        public var fanout = 2
        /// Entries of other members per message (besides the sender's own).
        public var entriesPerMessage = 10
        public var suspectAfter: Duration = .seconds(4)
        public var deadAfter: Duration = .seconds(8)
        /// Members remembered at most (the engine benchmark keeps this small).
        public var knownMax = 4_096
        /// Every this many rounds one random member is pinged even if dead, so partitions heal.
        public var deadProbeEvery = 2
        public init() {}
    }

    /// Who this node is.
    public struct Identity: Sendable, Equatable {
        public var name: String
        public var node: NodeID
        public var address: PeerAddress
        public var tags: [String: String]
        public init(name: String, node: NodeID, address: PeerAddress, tags: [String: String] = [:]) {
            self.name = name
            self.node = node
            self.address = address
            self.tags = tags
        }
    }

    struct Entry {
        var member: UInt32
        var incarnation: UInt64
        var heartbeat: UInt64
        var leaving: Bool
        var lastProgress: Instant
        var state: MemberState
    }

    static let tick = TimerID(1)

    public let configuration: Configuration
    public let identity: Identity
    let directory: HeartbeatDirectory
    let number: UInt32
    let bootstrap: [PeerAddress]
    let persisted: PersistedState?
    public private(set) var incarnation: UInt64 = 0
    var heartbeat: UInt64 = 0
    var leaving = false
    var entries: [Entry] = []
    var indexByMember: [UInt32: Int] = [:]
    var cursor = 0
    var round = 0
    var started = false
    public private(set) var pingsSent: UInt64 = 0
    public private(set) var pingsReceived: UInt64 = 0
    public private(set) var acksReceived: UInt64 = 0
    public private(set) var malformed: UInt64 = 0
    /// The persisted state this machine was started from (nil: an empty store).
    public var startedFrom: PersistedState? { persisted }

    public init(identity: Identity, bootstrap: [PeerAddress], persisted: PersistedState?,
                directory: HeartbeatDirectory, configuration: Configuration = Configuration()) {
        self.identity = identity
        self.directory = directory
        self.number = directory.number(of: identity)
        self.bootstrap = bootstrap.filter { $0 != identity.address }
        self.persisted = persisted
        self.configuration = configuration
    }

    /// From a real peer's setup (its store is `setup.persisted`; a default one counts as empty).
    public init(setup: PeerSetup, directory: HeartbeatDirectory, configuration: Configuration = Configuration()) {
        self.init(
            identity: Identity(name: setup.certificate.name, node: NodeID(setup.identity.publicKey),
                               address: setup.advertise, tags: setup.tags),
            bootstrap: setup.bootstrap + setup.persisted.knownPeers,
            persisted: setup.persisted == PersistedState() ? nil : setup.persisted,
            directory: directory, configuration: configuration)
    }

    public var members: [MemberView] {
        var view = [MemberView(name: identity.name, node: identity.node, address: identity.address,
                               state: leaving ? .left : .alive, incarnation: incarnation, tags: identity.tags,
                               isLocal: true)]
        view.reserveCapacity(entries.count + 1)
        for entry in entries {
            guard let member = directory.identity(entry.member) else { continue }
            view.append(MemberView(name: member.name, node: member.node, address: member.address, state: entry.state,
                                   incarnation: entry.incarnation, tags: member.tags, isLocal: false))
        }
        return view
    }

    public var counters: [String: UInt64] {
        ["heartbeat.pings sent": pingsSent, "heartbeat.pings received": pingsReceived,
         "heartbeat.acks received": acksReceived, "heartbeat.malformed": malformed]
    }

    public mutating func handle<R: RandomNumberGenerator>(_ input: PeerInput, now: Instant, random: inout R) -> [PeerEffect] {
        var effects: [PeerEffect] = []
        switch input {
        case .start:
            started = true
            let floor = UInt64(max(0, now.nanoseconds / 1_000_000))
            incarnation = max((persisted?.incarnation ?? 0) + 1, floor)
            effects.append(.persist(PersistedState(incarnation: incarnation, knownPeers: [])))
            effects.append(.log(.info, "started at incarnation \(incarnation)"))
            tick(now: now, random: &random, into: &effects)
        case .timerFired(Self.tick):
            tick(now: now, random: &random, into: &effects)
        case .timerFired:
            break
        case let .datagram(bytes, source):
            guard let message = HeartbeatMessage(decoding: bytes) else {
                malformed += 1
                break
            }
            for entry in message.entries { merge(entry, now: now) }
            if message.isPing {
                pingsReceived += 1
                if !leaving { effects.append(.sendDatagram(encode(ping: false), to: source)) }
            } else {
                acksReceived += 1
            }
        case let .requestReceived(reply, bytes, _):
            effects.append(.sendReply(reply, bytes))
        case .responseReceived, .workDone:
            break
        case .leave:
            leaving = true
            heartbeat += 1
            let message = encode(ping: true)
            for target in liveTargets(count: configuration.fanout * 2, random: &random) {
                effects.append(.sendDatagram(message, to: address(of: target)))
            }
            effects.append(.cancelTimer(Self.tick))
            effects.append(.left)
        }
        return effects
    }

    private mutating func tick<R: RandomNumberGenerator>(now: Instant, random: inout R, into effects: inout [PeerEffect]) {
        round += 1
        heartbeat += 1
        for index in entries.indices where entries[index].state != .left {
            let age = now - entries[index].lastProgress
            entries[index].state = age > configuration.deadAfter ? .dead : age > configuration.suspectAfter ? .suspect : .alive
        }
        let message = encode(ping: true)
        let targets = liveTargets(count: configuration.fanout, random: &random)
        if targets.isEmpty {
            for address in bootstrap { effects.append(.sendDatagram(message, to: address)) }
            pingsSent += UInt64(bootstrap.count)
        }
        for target in targets { effects.append(.sendDatagram(message, to: address(of: target))) }
        pingsSent += UInt64(targets.count)
        if configuration.deadProbeEvery > 0, round % configuration.deadProbeEvery == 0, !entries.isEmpty {
            let pick = Int(random.next() % UInt64(entries.count))
            if entries[pick].state == .dead {
                effects.append(.sendDatagram(message, to: address(of: pick)))
                pingsSent += 1
            }
        }
        effects.append(.setTimer(Self.tick, at: now + configuration.interval))
    }

    /// Up to `count` distinct indices of members believed alive or suspect.
    private func liveTargets<R: RandomNumberGenerator>(count: Int, random: inout R) -> [Int] {
        guard !entries.isEmpty else { return [] }
        var picked: [Int] = []
        var attempts = 0
        while picked.count < count && attempts < count * 4 {
            attempts += 1
            let index = Int(random.next() % UInt64(entries.count))
            let state = entries[index].state
            if (state == .alive || state == .suspect) && !picked.contains(index) { picked.append(index) }
        }
        return picked
    }

    private func address(of entry: Int) -> PeerAddress {
        directory.identity(entries[entry].member)!.address
    }

    private mutating func merge(_ entry: HeartbeatMessage.Entry, now: Instant) {
        guard entry.member != number, directory.identity(entry.member) != nil else { return }
        if let index = indexByMember[entry.member] {
            let known = entries[index]
            guard (entry.incarnation, entry.heartbeat) > (known.incarnation, known.heartbeat) else { return }
            entries[index].incarnation = entry.incarnation
            entries[index].heartbeat = entry.heartbeat
            entries[index].leaving = entry.leaving
            entries[index].lastProgress = now
            entries[index].state = entry.leaving ? .left : .alive
        } else if entries.count < configuration.knownMax {
            indexByMember[entry.member] = entries.count
            entries.append(Entry(member: entry.member, incarnation: entry.incarnation, heartbeat: entry.heartbeat,
                                 leaving: entry.leaving, lastProgress: now, state: entry.leaving ? .left : .alive))
        }
    }

    private mutating func encode(ping: Bool) -> [UInt8] {
        var message = HeartbeatMessage(isPing: ping, entries: [])
        message.entries.reserveCapacity(configuration.entriesPerMessage + 1)
        message.entries.append(.init(member: number, incarnation: incarnation, heartbeat: heartbeat, leaving: leaving))
        var scanned = 0
        while message.entries.count <= configuration.entriesPerMessage && scanned < entries.count {
            cursor = (cursor + 1) % entries.count
            scanned += 1
            let entry = entries[cursor]
            guard entry.state == .alive || entry.state == .left else { continue }
            message.entries.append(.init(member: entry.member, incarnation: entry.incarnation,
                                         heartbeat: entry.heartbeat, leaving: entry.leaving))
        }
        return message.encoded()
    }
}
