import StarlingCrypto
import StarlingMembership
import StarlingPeer
import StarlingTasks
import StarlingTrust
import StarlingWire
import Testing

/// N `Peer`s driven directly through `PeerMachine`, as swift-cluster-membership tests its SWIM
/// instance: feed inputs, look at the effects. A manual clock (`advance`), a router that hands each
/// peer's datagrams and stream requests to the others at once (no latency, no loss) in a fixed
/// order, and a fake driver for `.work` orders (`FakeDriver`). One seeded generator and events
/// ordered by (time, sequence) fix the harness's own choices; the peers' dictionaries still
/// iterate in an order Swift seeds per process, so tests check outcomes and orderings that the
/// protocol promises, never one exact trace.
///
/// Faults: a `crash`ed peer gets no input (no timer fires, nothing is delivered to or from it); a
/// peer in `isolated` runs on but talks to nobody. A stream request that cannot be delivered fails
/// with `timedOut` after its timeout. Requests with a tag in `holdRequests` are kept undelivered
/// until `releaseHeldRequests`.
struct PeerCluster {
    static let unixAtStart: UInt64 = 1_800_000_000
    /// What a peer's certificate allows unless a test says otherwise: coordinate and submit.
    static let roles: Roles = [.peer, .coordinator, .submit]

    let authority = Authority(signingKey: try! SigningKey(seed: [UInt8](repeating: 0xA0, count: 32)))
    let keys: [SigningKey]
    let nodes: [NodeID]
    let addresses: [PeerAddress]
    private(set) var peers: [Peer] = []
    private(set) var now: Instant = .zero
    var driver = FakeDriver()
    private(set) var crashed: Set<Int> = []
    var isolated: Set<Int> = []
    var holdRequests: Set<MessageTag> = []

    /// Every `.work` order, in the order given, with the journal sequence it was given at.
    private(set) var orders: [(sequence: Int, peer: Int, work: TaskWork)] = []
    /// Each peer's tasks as it last persisted them (`.persistTask`), by task.
    private(set) var states: [[TaskID: TaskState]]
    /// When each entry first appeared in a peer's persisted state (journal sequence), per peer:
    /// with `orders`' sequences, the order in which things happened.
    private(set) var entrySeen: [[ContentHash: Int]]
    private(set) var logs: [(peer: Int, level: LogLevel, text: String)] = []
    /// Membership changes each peer announced, with when.
    private(set) var memberEvents: [(at: Instant, peer: Int, event: MembershipEvent)] = []

    /// Inputs handled at one instant before the cluster is taken to loop without time passing
    /// (each answering the other at once, for ever): the test then fails instead of hanging.
    static let inputsPerInstantMax = 20_000
    /// Set when that happened; nothing runs after it.
    private(set) var stalled = false
    private var inputsAtNow = (at: Instant.zero, count: 0)

    private var random = DeterministicRandom(seed: 13)
    private var journal = 0
    private var queue: [Event] = []
    private var nextEvent = 0
    private var timers: [[TimerID: Instant]]
    private var nextReply: UInt64 = 1
    private var openReplies: [ReplyID: (requester: Int, exchange: ExchangeID)] = [:]
    private var heldRequests: [(from: Int, to: Int, exchange: ExchangeID, frame: [UInt8])] = []

    private struct Event {
        let at: Instant
        let sequence: Int
        let peer: Int
        let input: PeerInput
    }

    /// `count` peers that know each other from the start (a warm membership), each started at t=0.
    /// Each peer also lists the others as bootstrap addresses, so that two sides of a healed
    /// isolation find each other again (membership's reconnect, every `antiEntropyInterval`).
    /// `tasks(i)`: the tasks peer i holds at start, as if from its store; `tags(i)`: its membership
    /// tags (in its own setup and in the claim the others start with).
    init(count: Int, roles: (Int) -> Roles = { _ in PeerCluster.roles }, membership: MembershipSettings = MembershipSettings(),
         taskSettings: TaskSettings = TaskSettings(), tasks: (Int) -> [TaskState] = { _ in [] },
         tags: (Int) -> [String: String] = { _ in [:] }) {
        keys = (0..<count).map { try! SigningKey(seed: [UInt8](repeating: UInt8($0 + 1), count: 32)) }
        nodes = keys.map { NodeID($0.publicKey) }
        addresses = (0..<count).map { PeerAddress(host: "10.0.0.\($0 + 1)", port: 7946) }
        states = Array(repeating: [:], count: count)
        entrySeen = Array(repeating: [:], count: count)
        timers = Array(repeating: [:], count: count)
        let cache = SignatureCache()
        let certificates = (0..<count).map { [authority, nodes] index in
            try! authority.admit(nodes[index], name: "node-\(index)", roles: roles(index), now: Self.unixAtStart, validFor: 86_400)
        }
        let tagsOf = (0..<count).map(tags)
        let members = (0..<count).map { [keys, addresses] index in
            ClaimBox(SignedClaim.sign(.alive(AliveClaim(certificate: certificates[index], incarnation: 1,
                                                        address: addresses[index], tags: tagsOf[index])), with: keys[index]))
        }
        for index in 0..<count {
            var setup = PeerSetup(identity: keys[index], certificate: certificates[index], authority: authority.publicKey,
                                  advertise: addresses[index], bootstrap: addresses.filter { $0 != addresses[index] },
                                  settings: membership, signatureCache: cache,
                                  unixTimeAtStart: Self.unixAtStart, initialMembers: members)
            setup.tags = tagsOf[index]
            setup.taskSettings = taskSettings
            setup.tasks = tasks(index)
            peers.append(Peer(setup: setup))
        }
        for index in 0..<count { handle(.start, at: index) }
        drain()
    }

    /// Unix seconds on every peer's clock now.
    var unixNow: UInt64 { Self.unixAtStart + UInt64(now.nanoseconds / 1_000_000_000) }

    // MARK: Driving

    /// Runs every event due up to `now + duration`, then sets the clock there.
    mutating func advance(by duration: Duration) {
        let end = now + duration
        while !stalled, let next = nextDue(), next <= end {
            now = max(now, next)
            step()
        }
        now = end
    }

    /// Advances in steps of `step` until `condition` holds (true) or `limit` has passed (false).
    @discardableResult
    mutating func advance(until condition: (PeerCluster) -> Bool, within limit: Duration,
                          step: Duration = .milliseconds(100)) -> Bool {
        let end = now + limit
        while !condition(self) {
            guard now < end, !stalled else { return false }
            advance(by: step)
        }
        return true
    }

    /// Sends an operator's request to a peer, routes its effects and runs what is due now.
    @discardableResult
    mutating func control(_ request: ControlRequest, at peer: Int) -> ControlAnswer {
        let (answer, effects) = peers[peer].control(request, now: now, random: &random)
        route(effects, from: peer)
        drain()
        return answer
    }

    /// Submits a spec at `peer`; the task's id.
    mutating func submit(_ spec: TaskSpec, at peer: Int) -> TaskID? {
        let answer = control(.submitTask(specBytes: spec.wireBytes), at: peer)
        return answer.fields["id"].flatMap { text in peers[peer].tasks.first { $0.id.text == text }?.id }
    }

    /// The peer stops: no timer fires, nothing reaches it or leaves it, its orders go unanswered.
    mutating func crash(_ peer: Int) { crashed.insert(peer) }

    /// Answers the withheld orders that match, as the driver would have.
    mutating func answerWithheld(where matches: (_ peer: Int, _ work: TaskWork) -> Bool) {
        for (peer, work) in driver.takeWithheld(where: matches) {
            for result in driver.answers(work, from: peer) { enqueue(.workDone(result), to: peer) }
        }
        drain()
    }

    /// Hands `peer` a driver answer the test made up.
    mutating func deliver(_ result: TaskWorkResult, to peer: Int) {
        enqueue(.workDone(result), to: peer)
        drain()
    }

    /// Stops holding requests and delivers those held.
    mutating func releaseHeldRequests() {
        holdRequests = []
        let held = heldRequests
        heldRequests = []
        for request in held { deliverRequest(request.frame, exchange: request.exchange, from: request.from, to: request.to) }
        drain()
    }

    var heldRequestCount: Int { heldRequests.count }

    // MARK: Reading

    func state(_ task: TaskID, at peer: Int) -> TaskState? { states[peer][task] }
    func view(_ task: TaskID, at peer: Int) -> TaskView? { states[peer][task]?.view }
    func summary(_ task: TaskID, at peer: Int) -> TaskSummary? { peers[peer].tasks.first { $0.id == task } }
    func index(of node: NodeID) -> Int? { nodes.firstIndex(of: node) }

    /// When `peer` last saw `other` change to `state`.
    func lastChange(of other: Int, to state: MemberState, at peer: Int) -> Instant? {
        memberEvents.last {
            if case let .stateChanged(node, _, changed, _) = $0.event { return $0.peer == peer && node == nodes[other] && changed == state }
            return false
        }?.at
    }

    /// The orders given for `task`, optionally only those of one peer.
    func orders(for task: TaskID, at peer: Int? = nil) -> [(sequence: Int, peer: Int, work: TaskWork)] {
        orders.filter { $0.work.task == task && (peer == nil || $0.peer == peer) }
    }

    // MARK: The router

    private func nextDue() -> Instant? {
        let timer = timers.indices.filter { !crashed.contains($0) }.compactMap { timers[$0].values.min() }.min()
        let event = queue.first?.at
        switch (timer, event) {
        case let (timer?, event?): return min(timer, event)
        case let (timer?, nil): return timer
        case let (nil, event?): return event
        case (nil, nil): return nil
        }
    }

    /// Runs the next due thing: queued inputs first, then the earliest timer (lowest peer, then id).
    private mutating func step() {
        if let event = queue.first, event.at <= now {
            queue.removeFirst()
            handle(event.input, at: event.peer)
            return
        }
        var due: (peer: Int, id: TimerID, at: Instant)?
        for peer in timers.indices where !crashed.contains(peer) {
            for (id, at) in timers[peer] where at <= now {
                if let held = due, (held.at, held.peer, held.id.rawValue) <= (at, peer, id.rawValue) { continue }
                due = (peer, id, at)
            }
        }
        guard let due else { return }
        timers[due.peer][due.id] = nil
        handle(.timerFired(due.id), at: due.peer)
    }

    /// Runs every input due now (those the inputs cause included).
    private mutating func drain() {
        while let event = queue.first, event.at <= now {
            queue.removeFirst()
            handle(event.input, at: event.peer)
        }
    }

    private mutating func handle(_ input: PeerInput, at peer: Int) {
        guard !crashed.contains(peer), !stalled else { return }
        inputsAtNow = inputsAtNow.at == now ? (now, inputsAtNow.count + 1) : (now, 1)
        if inputsAtNow.count > Self.inputsPerInstantMax {
            Issue.record("more than \(Self.inputsPerInstantMax) inputs at \(now): the peers loop with no time passing")
            stalled = true
            queue = []
            return
        }
        let effects = peers[peer].handle(input, now: now, random: &random)
        route(effects, from: peer)
    }

    private mutating func enqueue(_ input: PeerInput, to peer: Int, at: Instant? = nil) {
        let event = Event(at: at ?? now, sequence: nextEvent, peer: peer, input: input)
        nextEvent += 1
        let position = queue.firstIndex { ($0.at, $0.sequence) > (event.at, event.sequence) } ?? queue.endIndex
        queue.insert(event, at: position)
    }

    private func reachable(_ from: Int, _ to: Int) -> Bool {
        from == to || ![from, to].contains { crashed.contains($0) || isolated.contains($0) }
    }

    private mutating func deliverRequest(_ frame: [UInt8], exchange: ExchangeID, from: Int, to: Int) {
        let reply = ReplyID(nextReply)
        nextReply += 1
        openReplies[reply] = (from, exchange)
        enqueue(.requestReceived(reply, frame, from: addresses[from]), to: to)
    }

    private mutating func route(_ effects: [PeerEffect], from peer: Int) {
        for effect in effects {
            journal += 1
            switch effect {
            case let .sendDatagram(bytes, address):
                guard let target = addresses.firstIndex(of: address), reachable(peer, target) else { continue }
                enqueue(.datagram(bytes, from: addresses[peer]), to: target)
            case let .setTimer(id, at):
                timers[peer][id] = at
            case let .cancelTimer(id):
                timers[peer][id] = nil
            case let .sendRequest(exchange, frame, address, timeout):
                guard let target = addresses.firstIndex(of: address), reachable(peer, target) else {
                    enqueue(.responseReceived(exchange, .failure(.timedOut)), to: peer, at: now + timeout)
                    continue
                }
                if let envelope = try? Envelope(streamMessage: frame), holdRequests.contains(envelope.tag) {
                    heldRequests.append((peer, target, exchange, frame))
                    continue
                }
                deliverRequest(frame, exchange: exchange, from: peer, to: target)
            case let .sendReply(reply, bytes):
                guard let (requester, exchange) = openReplies.removeValue(forKey: reply), reachable(peer, requester) else { continue }
                enqueue(.responseReceived(exchange, .success(bytes)), to: requester)
            case let .persistTask(state):
                states[peer][state.id] = state
                for hash in state.entryHashes where entrySeen[peer][hash] == nil { entrySeen[peer][hash] = journal }
            case let .work(work):
                orders.append((journal, peer, work))
                for result in driver.take(work, from: peer) { enqueue(.workDone(result), to: peer) }
            case let .log(level, text):
                logs.append((peer, level, text))
            case let .memberChanged(event):
                memberEvents.append((now, peer, event))
            case .persist, .left:
                break
            }
        }
    }
}

extension PeerCluster: CustomStringConvertible {
    /// Short, for failure messages (which would otherwise print every peer).
    var description: String { "\(peers.count) peers at \(now)" + (stalled ? ", stalled" : "") }
}
