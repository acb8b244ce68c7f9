import StarlingMembership
import StarlingPeer

extension EngineState {
    /// Performs a machine's effects in order, as a driver must.
    mutating func perform(_ effects: [PeerEffect], from node: Int) {
        for effect in effects {
            // A `.left` earlier in the batch stopped the node: the rest goes nowhere.
            guard nodes[node].status == .up else { return }
            switch effect {
            case let .sendDatagram(bytes, to):
                sendDatagram(bytes, from: node, to: to)
            case let .setTimer(id, at):
                let generation = nextGenerationNumber()
                nodes[node].timers[id.rawValue] = generation
                let due = max(nodes[node].clock.global(forLocal: at.nanoseconds), now.nanoseconds)
                queue.push(at: due, .timer(node: Int32(node), epoch: nodes[node].epoch, timer: id.rawValue, generation: generation))
            case let .cancelTimer(id):
                nodes[node].timers[id.rawValue] = nil
            case let .sendRequest(id, bytes, to, timeout):
                sendRequest(id.rawValue, bytes, from: node, to: to, timeout: timeout)
            case let .sendReply(id, bytes):
                sendReply(id.rawValue, bytes, from: node)
            case let .log(level, message):
                log(node, level, message)
            case let .memberChanged(event):
                recordMemberChange(event, heldBy: node)
                if logLevel != nil { log(node, event.logLine.level, event.logLine.message) }
            case let .persist(state):
                cold[node].persisted = state
            case let .persistTask(task):
                cold[node].persistedTasks[task.id] = task
            case let .work(work):
                performWork(work, from: node)
            case .left:
                stop(node, as: .left)
                pendingLifecycle.append(.left(node: node))
            }
        }
    }

    mutating func sendDatagram(_ bytes: [UInt8], from node: Int, to address: PeerAddress) {
        statistics.datagramsSent &+= 1
        nodes[node].traffic.datagrams &+= 1
        nodes[node].traffic.datagramBytes &+= UInt64(bytes.count)
        if nodes[node].honest { statistics.honestBytesSent &+= UInt64(bytes.count) }
        if bytes.count > datagramBytesMax {
            statistics.datagramsOversized &+= 1
            recordViolation(node, "sent a \(bytes.count)-byte datagram to \(address) (limit \(datagramBytesMax))")
            return
        }
        guard let target = addressTable.index(of: address, addresses: addresses) else {
            statistics.datagramsUnroutable &+= 1
            return
        }
        guard nodes[target].status == .up else {
            statistics.datagramsToDownNodes &+= 1
            return
        }
        if !partitions.isEmpty && isBlocked(from: node, to: target) {
            statistics.datagramsPartitioned &+= 1
            return
        }
        if timing.loss > 0 && DeterministicMath.chance(timing.loss, &nodes[node].networkRandom) {
            statistics.datagramsLost &+= 1
            return
        }
        let epoch = nodes[target].epoch
        let delay = timing.delay(node, target, linkKey: linkKey, &nodes[node].networkRandom)
        queue.push(at: now.nanoseconds &+ delay, .datagram(node: Int32(target), epoch: epoch, from: Int32(node), bytes: bytes))
        if timing.duplication > 0 && DeterministicMath.chance(timing.duplication, &nodes[node].networkRandom) {
            statistics.datagramsDuplicated &+= 1
            let again = timing.delay(node, target, linkKey: linkKey, &nodes[node].networkRandom)
            queue.push(at: now.nanoseconds &+ again, .datagram(node: Int32(target), epoch: epoch, from: Int32(node), bytes: bytes))
        }
    }

    /// A request over a stream: connect (one round trip), send, and expect exactly one response.
    /// A down or unknown target fails with `.unreachable` after the connect attempt; a cut link
    /// (either direction: a handshake needs both) gives `.timedOut` at the timeout.
    mutating func sendRequest(_ exchange: UInt64, _ bytes: [UInt8], from node: Int, to address: PeerAddress, timeout: Duration) {
        statistics.requestsSent &+= 1
        nodes[node].traffic.requests &+= 1
        nodes[node].traffic.streamBytes &+= UInt64(bytes.count)
        if nodes[node].honest { statistics.honestBytesSent &+= UInt64(bytes.count) }
        if cold[node].exchanges[exchange] != nil {
            recordViolation(node, "reused exchange id \(exchange) while a request with it was pending")
        }
        let generation = nextGenerationNumber()
        cold[node].exchanges[exchange] = generation
        let node32 = Int32(node), epoch = nodes[node].epoch
        queue.push(at: now.nanoseconds &+ max(0, timeout.nanoseconds),
                   .exchangeDeadline(node: node32, epoch: epoch, exchange: exchange, generation: generation))
        var failure: (ExchangeFailure, Int64)?
        if bytes.count > frameBytesMax {
            failure = (.tooLarge, 0)
        } else if let target = addressTable.index(of: address, addresses: addresses) {
            if isBlocked(from: node, to: target) || isBlocked(from: target, to: node) { return }
            let roundTrip = streamLeg(node, target, retransmitAfter: Self.synTimeout)
                &+ streamLeg(target, node, retransmitAfter: Self.synTimeout)
            if nodes[target].status == .up {
                let oneWay = streamLeg(node, target, retransmitAfter: Self.dataTimeout)
                queue.push(at: now.nanoseconds &+ roundTrip &+ oneWay, .request(RequestDelivery(
                    target: Int32(target), targetEpoch: nodes[target].epoch, requester: node32, requesterEpoch: epoch,
                    exchange: exchange, generation: generation, bytes: bytes)))
                return
            }
            failure = (.unreachable("connection refused by \(address)"), roundTrip)
        } else {
            failure = (.unreachable("no route to \(address)"), 2 * timing.baseMax)
        }
        if let (reason, delay) = failure {
            queue.push(at: now.nanoseconds &+ delay, .response(
                node: node32, epoch: epoch, exchange: exchange, generation: generation, result: .failure(reason)))
        }
    }

    /// TCP's first retransmission timeouts on Linux: 1 s for a SYN, 200 ms (the minimum RTO) for data.
    static let synTimeout: Int64 = 1_000_000_000
    static let dataTimeout: Int64 = 200_000_000
    /// Retransmissions modelled before a leg is simply delivered (TCP would give up much later).
    static let retransmissionsMax = 6

    /// One leg of a stream exchange: streams never lose data, but on a lossy network each lost
    /// segment costs a retransmission timeout, doubling each time, as TCP's does.
    mutating func streamLeg(_ from: Int, _ to: Int, retransmitAfter firstTimeout: Int64) -> Int64 {
        var total = timing.delay(from, to, linkKey: linkKey, &nodes[from].networkRandom)
        guard timing.loss > 0 else { return total }
        var timeout = firstTimeout
        for _ in 0..<Self.retransmissionsMax {
            guard DeterministicMath.chance(timing.loss, &nodes[from].networkRandom) else { break }
            statistics.streamRetransmissions &+= 1
            total &+= timeout
            timeout &*= 2
        }
        return total
    }

    mutating func sendReply(_ reply: UInt64, _ bytes: [UInt8], from node: Int) {
        guard let inbound = cold[node].inbound.removeValue(forKey: reply) else {
            recordViolation(node, "replied to request #\(reply), which is unknown or already answered")
            return
        }
        nodes[node].traffic.streamBytes &+= UInt64(bytes.count)
        if nodes[node].honest { statistics.honestBytesSent &+= UInt64(bytes.count) }
        let requester = Int(inbound.requester)
        let result: Result<[UInt8], ExchangeFailure> = bytes.count > frameBytesMax ? .failure(.tooLarge) : .success(bytes)
        let delay = streamLeg(node, requester, retransmitAfter: Self.dataTimeout)
        queue.push(at: now.nanoseconds &+ delay, .response(
            node: inbound.requester, epoch: inbound.requesterEpoch, exchange: inbound.exchange,
            generation: inbound.generation, result: result))
    }

    mutating func log(_ node: Int, _ level: LogLevel, _ message: String) {
        guard let threshold = logLevel, level >= threshold else { return }
        let record = LogRecord(time: now, node: node, name: cold[node].spec.name, level: level, message: message)
        pendingLogs.append(record)
        if logs.count < logsKept {
            logs.append(record)
        } else if logsKept > 0 {
            logs[logCursor] = record
            logCursor = (logCursor + 1) % logsKept
        }
    }
}
