import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust
import StarlingWire

/// The peer machine every node runs: composes the membership core (and, in later issues, tasks)
/// and translates between its effects and the driver's inputs and effects: datagrams sealed with
/// pairwise MACs, anti-entropy over request/response streams, timers, persistence.
public struct Peer: PeerMachine {
    public internal(set) var membership: Membership
    var codec: PacketCodec
    private var timers = TimerTable()
    var exchanges: [UInt64: Exchange] = [:]
    var nextExchange: UInt64 = 1
    var taskBook = TaskBook()
    /// When `.start` arrived, and whether the peer had anyone to join then (bootstrap addresses or
    /// peers remembered from before a restart): such a peer claims no lease before it has heard
    /// from a member or waited `TaskSettings.claimAloneAfter` (`Peer+TaskRounds`).
    var startedAt: Instant?
    let hasPeersToJoin: Bool
    let taskSettings: TaskSettings
    let signatureCache: SignatureCache
    /// The time of the last input (summaries read the lease clock at it).
    var lastNow: Instant = .zero
    var peerCounters: [String: UInt64] = [:]
    var persisted: PersistedState
    private var nextReply: UInt64 = 0

    enum Exchange {
        case syncRequest(PeerAddress)
        case syncPush(PeerAddress)
        case keyring(operation: UInt64, member: String)
        case probe(NodeID, PeerAddress, sequence: UInt32)
        case taskPull(TaskID)
        case taskReplicate(TaskID)
        case taskPush(TaskID)
    }
    /// Cluster keyring operations started here, by id (bounded: the oldest are forgotten).
    var keyringOperations: [UInt64: KeyringProgress] = [:]
    var nextKeyringOperation: UInt64 = 1
    /// Signatures of keyring requests already applied, so a replay inside the time window is refused.
    var appliedKeyringRequests: Set<Signature> = []

    /// Largest number of remembered peers persisted for rejoining.
    public static let knownPeersMax = 32

    /// The task tick's timer (outside the ids `TimerTable` hands out, which count up from 1).
    static let taskTimer = TimerID(UInt64.max)
    /// Asks candidates that answered "not yet" again, `replicateRetry` after they did (the tick is
    /// far longer: waiting for it held every commit back by up to a second).
    static let replicationTimer = TimerID(UInt64.max - 1)

    public init(setup: PeerSetup) {
        persisted = setup.persisted
        taskSettings = setup.taskSettings
        signatureCache = setup.signatureCache
        for state in setup.tasks.prefix(setup.taskSettings.tasksMax) { taskBook.states[state.id] = state }
        codec = PacketCodec(identity: setup.identity, authentication: setup.packetAuthentication, keyring: setup.keyring)
        var bootstrap = setup.bootstrap
        for address in setup.persisted.knownPeers where !bootstrap.contains(address) { bootstrap.append(address) }
        hasPeersToJoin = !bootstrap.filter { $0 != setup.advertise }.isEmpty
        membership = Membership(
            identity: setup.identity, certificate: setup.certificate, authority: setup.authority,
            revocations: setup.revocations, address: setup.advertise, tags: setup.tags, bootstrap: bootstrap,
            startIncarnation: setup.persisted.incarnation + 1, unixTimeAtStart: setup.unixTimeAtStart,
            settings: setup.settings, signatureCache: setup.signatureCache, initialMembers: setup.initialMembers)
    }

    public var members: [MemberView] {
        membership.view.map {
            MemberView(name: $0.name, node: $0.node, address: $0.address, state: $0.state,
                       incarnation: $0.incarnation, tags: $0.tags, isLocal: $0.isLocal)
        }
    }

    public var reportsMemberChanges: Bool { true }

    public func linkQuality(of node: NodeID) -> Double { membership.linkQuality(of: node) }

    public func forEachMemberState(_ body: (NodeID, MemberState) -> Void) {
        for (node, record) in membership.members { body(node, record.state) }
    }

    public var counters: [String: UInt64] {
        membership.counters.merging(peerCounters, uniquingKeysWith: +)
    }

    mutating func count(_ name: String) { peerCounters[name, default: 0] += 1 }

    public mutating func handle<R: RandomNumberGenerator>(
        _ input: PeerInput, now: Instant, random: inout R
    ) -> [PeerEffect] {
        var effects: [PeerEffect] = []
        lastNow = now
        switch input {
        case .start:
            startedAt = now
            perform(membership.start(now: now, random: &random), now: now, random: &random, into: &effects)
            effects.append(.setTimer(Self.taskTimer, at: now + taskSettings.tickInterval))
            for id in taskBook.orderedIDs { taskBook.changed(id, sends: advertSends) }
        case let .timerFired(id) where id == Self.taskTimer:
            taskTick(now: now, random: &random, effects: &effects)
        case let .timerFired(id) where id == Self.replicationTimer:
            expireReplications(now: now, effects: &effects)
        case let .datagram(bytes, source):
            receive(bytes, from: source, now: now, random: &random, into: &effects)
        case let .timerFired(id):
            guard let timer = timers.fired(id) else {
                count("dropped.unknown timer")
                break
            }
            membership.hostHasGossip = !taskBook.sendsLeft.isEmpty
            perform(membership.timerFired(timer, now: now, random: &random), now: now, random: &random, into: &effects)
            if timer == .antiEntropy { persistIfChanged(into: &effects) }
        case let .requestReceived(reply, bytes, source):
            answer(reply, bytes, from: source, now: now, random: &random, into: &effects)
        case let .responseReceived(id, result):
            completeExchange(id, result, now: now, random: &random, into: &effects)
        case .leave:
            perform(membership.leave(now: now, random: &random), now: now, random: &random, into: &effects)
        case let .workDone(result):
            workDone(result, now: now, effects: &effects)
        }
        if !taskBook.dirty.isEmpty { driveChangedTasks(now: now, effects: &effects) }
        return effects
    }

    // MARK: Datagrams

    private mutating func receive<R: RandomNumberGenerator>(
        _ bytes: [UInt8], from source: PeerAddress, now: Instant, random: inout R, into effects: inout [PeerEffect]
    ) {
        let members = membership.members
        let opened: (sender: NodeID, payload: ArraySlice<UInt8>)
        do {
            opened = try codec.open(bytes, from: source) { members[$0]?.address }
        } catch {
            count("dropped.datagram \(Self.reason(error))")
            return
        }
        var skipped = 0
        let messages: [MembershipMessage]
        do {
            messages = try MembershipMessage.decodeAll(opened.payload, skipped: &skipped)
        } catch {
            count("dropped.datagram malformed messages")
            return
        }
        if skipped > 0 {
            let taskItems = receiveAdverts(opened.payload, from: opened.sender, address: source, effects: &effects)
            if skipped > taskItems { peerCounters["skipped.unknown message kind", default: 0] += UInt64(skipped - taskItems) }
        }
        count("datagrams.received")
        perform(membership.receive(messages, from: opened.sender, address: source, now: now, random: &random),
                now: now, random: &random, into: &effects)
    }

    static func reason(_ error: PacketCodec.OpenError) -> String {
        switch error {
        case .malformed: return "malformed"
        case .badMAC: return "bad MAC"
        case .unencrypted: return "not encrypted"
        case .undecryptable: return "undecryptable"
        case .spoofedAddress: return "spoofed address"
        }
    }

    /// Builds one datagram: the primary messages, then piggybacked claims sharing the remaining
    /// space between membership and other gossip (see `PiggybackBudget`).
    private mutating func sendDatagram<R: RandomNumberGenerator>(
        to node: NodeID, address: PeerAddress, messages: [MembershipMessage], piggyback: Bool,
        random: inout R, into effects: inout [PeerEffect]
    ) {
        var writer = WireWriter(capacity: membership.settings.datagramBytesMax)
        for message in messages { writer.write(message) }
        let budget = codec.payloadBudget(datagramBytesMax: membership.settings.datagramBytesMax) - writer.bytes.count
        if piggyback && budget > 0 {
            var claims: [MembershipMessage] = []
            var adverts: [TaskAdvert] = []
            PiggybackBudget.share(
                budget, membershipReserve: membership.settings.membershipGossipBytes,
                takeMembership: { room in
                    let taken = membership.takeBroadcasts(budget: room)
                    claims.append(contentsOf: taken.messages)
                    return taken.bytes
                },
                takeOther: { room in
                    let fits = min(room / TaskAdvert.itemBytes, taskSettings.advertsPerDatagramMax)
                    adverts = taskBook.takeAdverts(max: fits)
                    return adverts.count * TaskAdvert.itemBytes
                })
            for claim in claims { writer.write(claim) }
            for advert in adverts { advert.appendItem(to: &writer) }
        }
        guard !writer.bytes.isEmpty else { return }
        do {
            effects.append(.sendDatagram(try codec.seal(writer.bytes, to: node, random: &random), to: address))
            count("datagrams.sent")
        } catch {
            count("dropped.outgoing \(error)")
        }
    }

    // MARK: Anti-entropy exchanges

    /// Sends one request frame over a stream and remembers what its response is for.
    @discardableResult
    mutating func sendRequest(_ exchange: Exchange, _ frame: [UInt8], to address: PeerAddress, timeout: Duration,
                              into effects: inout [PeerEffect]) -> UInt64 {
        let id = nextExchange
        nextExchange += 1
        exchanges[id] = exchange
        effects.append(.sendRequest(ExchangeID(id), frame, to: address, timeout: timeout))
        return id
    }

    private mutating func startSync(to address: PeerAddress, into effects: inout [PeerEffect]) {
        let active = exchanges.count
        guard active < membership.settings.antiEntropyConcurrencyMax else {
            count("sync.skipped at concurrency limit")
            return
        }
        guard let frame = try? Envelope(tag: .syncRequest, message: membership.makeSyncRequest()).streamMessage() else {
            count("sync.request too large")
            return
        }
        sendRequest(.syncRequest(address), frame, to: address, timeout: membership.settings.requestTimeout, into: &effects)
        count("sync.started")
    }

    private mutating func answer<R: RandomNumberGenerator>(
        _ reply: ReplyID, _ bytes: [UInt8], from source: PeerAddress, now: Instant, random: inout R,
        into effects: inout [PeerEffect]
    ) {
        guard let envelope = try? Envelope(streamMessage: bytes) else {
            count("dropped.request malformed")
            effects.append(.sendReply(reply, []))
            return
        }
        switch envelope.tag {
        case .syncRequest:
            guard let request = try? SyncRequest(wireBytes: envelope.body) else {
                count("dropped.request malformed")
                effects.append(.sendReply(reply, []))
                return
            }
            let (response, membershipEffects) = membership.handleSyncRequest(request, now: now)
            perform(membershipEffects, now: now, random: &random, into: &effects)
            effects.append(.sendReply(reply, (try? Envelope(tag: .syncResponse, message: response).streamMessage()) ?? []))
        case .keyringRequest:
            effects.append(.sendReply(reply, answerKeyringRequest(envelope.body, now: now, into: &effects)))
        case .probeRequest:
            answerStreamProbe(reply, envelope.body, from: source, now: now, random: &random, into: &effects)
        case .taskPullRequest:
            effects.append(.sendReply(reply, answerPull(envelope.body)))
        case .taskReplicateRequest:
            effects.append(.sendReply(reply, answerReplicate(envelope.body, now: now, effects: &effects)))
        case .taskPushRequest:
            effects.append(.sendReply(reply, answerPush(envelope.body, now: now, effects: &effects)))
        case .syncPush:
            guard let push = try? SyncClaims(wireBytes: envelope.body) else {
                count("dropped.request malformed")
                effects.append(.sendReply(reply, []))
                return
            }
            perform(membership.handleSyncPush(push, now: now), now: now, random: &random, into: &effects)
            effects.append(.sendReply(reply, (try? Envelope(tag: .syncPushAck, body: []).streamMessage()) ?? []))
        default:
            count("dropped.request unexpected \(envelope.tag)")
            effects.append(.sendReply(reply, []))
        }
    }

    private mutating func completeExchange<R: RandomNumberGenerator>(
        _ id: ExchangeID, _ result: Result<[UInt8], ExchangeFailure>, now: Instant, random: inout R,
        into effects: inout [PeerEffect]
    ) {
        guard let exchange = exchanges.removeValue(forKey: id.rawValue) else {
            count("dropped.unknown exchange")
            return
        }
        if case let .keyring(operation, member) = exchange {
            recordKeyringResponse(result, operation: operation, member: member)
            return
        }
        switch exchange {
        case let .taskPull(task):
            completePull(task, result, now: now, effects: &effects)
            return
        case let .taskReplicate(task):
            completeReplicate(task, exchange: id.rawValue, result, now: now, effects: &effects)
            return
        case .taskPush:
            if case .failure = result { count("tasks.pushes failed") }
            return
        default:
            break
        }
        if case let .probe(node, address, sequence) = exchange {
            completeStreamProbe(result, node: node, address: address, sequence: sequence, now: now, random: &random, into: &effects)
            return
        }
        guard case let .success(bytes) = result else {
            count("sync.failed")
            return
        }
        switch exchange {
        case let .syncRequest(address):
            guard let envelope = try? Envelope(streamMessage: bytes), envelope.tag == .syncResponse,
                  let response = try? SyncClaims(wireBytes: envelope.body)
            else {
                count("sync.bad response")
                return
            }
            let (push, membershipEffects) = membership.handleSyncResponse(response, now: now)
            perform(membershipEffects, now: now, random: &random, into: &effects)
            if let push, let frame = try? Envelope(tag: .syncPush, message: push).streamMessage() {
                sendRequest(.syncPush(address), frame, to: address, timeout: membership.settings.requestTimeout, into: &effects)
            }
            persistIfChanged(into: &effects)
        case .syncPush, .keyring, .probe, .taskPull, .taskReplicate, .taskPush:
            break
        }
    }

    // MARK: Effects

    mutating func perform<R: RandomNumberGenerator>(
        _ membershipEffects: [MembershipEffect], now: Instant, random: inout R, into effects: inout [PeerEffect]
    ) {
        for effect in membershipEffects {
            switch effect {
            case let .send(node, address, messages, piggyback):
                sendDatagram(to: node, address: address, messages: messages, piggyback: piggyback, random: &random, into: &effects)
            case let .setTimer(timer, at):
                effects.append(.setTimer(timers.id(for: timer), at: at))
            case let .cancelTimer(timer):
                if let id = timers.cancel(timer) { effects.append(.cancelTimer(id)) }
            case let .sync(address):
                startSync(to: address, into: &effects)
            case let .streamProbe(node, address, messages, timeout):
                startStreamProbe(to: node, address: address, messages: messages, timeout: timeout, now: now, random: &random, into: &effects)
            case let .event(event):
                switch event {
                case .joined, .stateChanged, .removed: effects.append(.memberChanged(event))
                case .refuted, .rejected: effects.append(.log(event.logLine.level, event.logLine.message))
                }
            case let .incarnationChanged(incarnation):
                persisted.incarnation = incarnation
                effects.append(.persist(persisted))
            case .leaveComplete:
                effects.append(.left)
            }
        }
    }

    private mutating func persistIfChanged(into effects: inout [PeerEffect]) {
        let alive = membership.members.values.filter { $0.state == .alive }.map(\.address).sorted().prefix(Self.knownPeersMax)
        guard Array(alive) != persisted.knownPeers, !alive.isEmpty else { return }
        persisted.knownPeers = Array(alive)
        effects.append(.persist(persisted))
    }
}

/// Maps the core's timers to driver timer ids (stable per timer while it is pending).
struct TimerTable {
    private var ids: [MembershipTimer: TimerID] = [:]
    private var timers: [TimerID: MembershipTimer] = [:]
    private var next: UInt64 = 1

    mutating func id(for timer: MembershipTimer) -> TimerID {
        if let id = ids[timer] { return id }
        let id = TimerID(next)
        next += 1
        ids[timer] = id
        timers[id] = timer
        return id
    }

    mutating func fired(_ id: TimerID) -> MembershipTimer? {
        guard let timer = timers.removeValue(forKey: id) else { return nil }
        ids[timer] = nil
        return timer
    }

    mutating func cancel(_ timer: MembershipTimer) -> TimerID? {
        guard let id = ids.removeValue(forKey: timer) else { return nil }
        timers[id] = nil
        return id
    }
}
