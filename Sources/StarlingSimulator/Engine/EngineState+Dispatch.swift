import StarlingMembership
import StarlingPeer

extension EngineState {
    mutating func stale() { statistics.staleEvents &+= 1 }

    /// Handles an event that concerns one node (everything but starts, scripts and samples).
    mutating func dispatch(_ event: ScheduledEvent) {
        switch event.action {
        case let .datagram(node32, epoch, from, bytes):
            let node = Int(node32)
            guard isCurrent(node, epoch) else {
                statistics.datagramsToDownNodes &+= 1
                return stale()
            }
            if deferIfSlow(event, node) { return }
            statistics.datagramsDelivered &+= 1
            deliver(.datagram(bytes, from: addresses[Int(from)]), to: node, kind: 1, bytes: bytes)

        case let .timer(node32, epoch, timer, generation):
            let node = Int(node32)
            guard isCurrent(node, epoch), nodes[node].timers[timer] == generation else { return stale() }
            if deferIfSlow(event, node) { return }
            nodes[node].timers[timer] = nil
            statistics.timersFired &+= 1
            deliver(.timerFired(TimerID(timer)), to: node, kind: 2, word: timer)

        case let .request(request):
            deliverRequest(request, event)

        case let .response(node32, epoch, exchange, generation, result):
            let node = Int(node32)
            guard isCurrent(node, epoch), cold[node].exchanges[exchange] == generation else { return stale() }
            if deferIfSlow(event, node) { return }
            cold[node].exchanges[exchange] = nil
            switch result {
            case .success: statistics.responsesDelivered &+= 1
            case .failure: statistics.exchangeFailures &+= 1
            }
            deliverResponse(exchange, result, to: node)

        case let .exchangeDeadline(node32, epoch, exchange, generation):
            let node = Int(node32)
            guard isCurrent(node, epoch), cold[node].exchanges[exchange] == generation else { return stale() }
            if deferIfSlow(event, node) { return }
            cold[node].exchanges[exchange] = nil
            statistics.exchangeTimeouts &+= 1
            deliverResponse(exchange, .failure(.timedOut), to: node)

        case let .leave(node32, epoch):
            let node = Int(node32)
            guard isCurrent(node, epoch) else { return stale() }
            if deferIfSlow(event, node) { return }
            deliver(.leave, to: node, kind: 6)

        case let .workDone(node32, epoch, result):
            let node = Int(node32)
            guard isCurrent(node, epoch) else { return stale() }
            if deferIfSlow(event, node) { return }
            deliver(.workDone(result), to: node, kind: 7)

        case .start, .script, .sample:
            preconditionFailure("handled by Simulation")
        }
    }

    /// Marks a node up and returns what its factory needs; the caller makes the machine (outside
    /// this struct, since factories are user code) and passes it to `install`.
    mutating func beginBoot(_ node: Int) -> MachineStart {
        accountUpTime()
        cold[node].starts += 1
        if cold[node].starts > 1 { statistics.restarts &+= 1 }
        nodes[node].status = .up
        if nodes[node].honest { honestUp += 1 }
        cold[node].upSince = now
        cold[node].downSince = nil
        if cold[node].firstStartedAt == nil { cold[node].firstStartedAt = now }
        refreshConnectivity(node)
        var start = MachineStart(node: node, persisted: cold[node].persisted,
                            localTime: Instant(nanoseconds: nodes[node].clock.local(now.nanoseconds)),
                            globalTime: now, life: cold[node].starts)
        start.tasks = cold[node].persistedTasks.keys.sorted().compactMap { cold[node].persistedTasks[$0] }
        return start
    }

    mutating func install(_ machine: any PeerMachine, at node: Int) {
        machines[node] = machine
        reloadView(of: node, replay: false)
        pendingLifecycle.append(.started(node: node, restart: cold[node].starts > 1))
        deliver(.start, to: node, kind: 0)
    }

    private mutating func deliverRequest(_ request: RequestDelivery, _ event: ScheduledEvent) {
        let target = Int(request.target)
        guard isCurrent(target, request.targetEpoch) else {
            // The server died (or restarted) while the request was on its way: the connection resets.
            let requester = Int(request.requester)
            statistics.staleEvents &+= 1
            let delay = timing.delay(target, requester, linkKey: linkKey, &nodes[target].networkRandom)
            queue.push(at: now.nanoseconds &+ delay, .response(
                node: request.requester, epoch: request.requesterEpoch, exchange: request.exchange,
                generation: request.generation, result: .failure(.closed("connection reset by peer"))))
            return
        }
        if deferIfSlow(event, target) { return }
        let reply = cold[target].nextReply
        cold[target].nextReply &+= 1
        cold[target].inbound[reply] = InboundRequest(
            requester: request.requester, requesterEpoch: request.requesterEpoch,
            exchange: request.exchange, generation: request.generation)
        deliver(.requestReceived(ReplyID(reply), request.bytes, from: addresses[Int(request.requester)]),
                to: target, kind: 3, word: reply, bytes: request.bytes)
    }

    private mutating func deliverResponse(_ exchange: UInt64, _ result: Result<[UInt8], ExchangeFailure>, to node: Int) {
        switch result {
        case let .success(bytes):
            deliver(.responseReceived(ExchangeID(exchange), result), to: node, kind: 4, word: exchange, bytes: bytes)
        case let .failure(failure):
            trace.mix("\(failure)")
            deliver(.responseReceived(ExchangeID(exchange), result), to: node, kind: 5, word: exchange)
        }
    }

    /// Hands one input to a node's machine at the node's local time and performs its effects.
    mutating func deliver(_ input: PeerInput, to node: Int, kind: UInt64, word: UInt64 = 0, bytes: [UInt8]? = nil) {
        let local = Instant(nanoseconds: nodes[node].clock.local(now.nanoseconds))
        trace.mix(UInt64(bitPattern: now.nanoseconds))
        trace.mix(UInt64(node) << 8 | kind)
        trace.mix(word)
        if let bytes { trace.mix(bytes) }
        statistics.inputs &+= 1
        if tracing {
            pendingTraces.append(TraceRecord(time: now, localTime: local, node: node, input: Self.describe(input)))
        }
        let effects = machines[node]!.handle(input, now: local, random: &nodes[node].machineRandom)
        if !effects.isEmpty { perform(effects, from: node) }
    }

    static func describe(_ input: PeerInput) -> String {
        switch input {
        case .start: return "start"
        case let .datagram(bytes, from): return "datagram \(bytes.count) B from \(from)"
        case let .timerFired(id): return "\(id) fired"
        case let .requestReceived(reply, bytes, from): return "request #\(reply.rawValue) \(bytes.count) B from \(from)"
        case let .responseReceived(id, result):
            switch result {
            case let .success(bytes): return "response #\(id.rawValue) \(bytes.count) B"
            case let .failure(failure): return "response #\(id.rawValue) failed: \(failure)"
            }
        case .leave: return "leave"
        case let .workDone(result): return "work done: \(result)"
        }
    }
}

/// Why the engine's loop handed control back to `Simulation`.
enum StepOutcome {
    /// No event is due by the deadline.
    case idle
    /// Events were handled and lifecycle events, logs or traces wait to be handed over (or, in
    /// single-step mode, one event was handled).
    case handled
    case script(Int)
    case sample
    /// A node is due to boot: its factory must be called.
    case boot(Int)
}

extension EngineState {
    /// Runs events due by `deadline` until one needs `Simulation` (user code) or, with `single`,
    /// after one event.
    mutating func advance(until deadline: Int64, single: Bool) -> StepOutcome {
        while let time = queue.nextTime, time <= deadline {
            let event = queue.pop()!
            now = Instant(nanoseconds: time)
            statistics.events &+= 1
            switch event.action {
            case let .script(index):
                return .script(index)
            case .sample:
                queue.push(at: time &+ sampleInterval, .sample)
                return .sample
            case let .start(node32, epoch):
                let node = Int(node32)
                if nodes[node].epoch != epoch || nodes[node].status != .starting {
                    stale()
                } else if !deferIfSlow(event, node) {
                    return .boot(node)
                }
            default:
                dispatch(event)
            }
            if single || hasPending { return .handled }
        }
        return .idle
    }

    var hasPending: Bool {
        !pendingLifecycle.isEmpty || !pendingLogs.isEmpty || !pendingTraces.isEmpty || !pendingMemberChanges.isEmpty
    }
}
