import StarlingMembership
import StarlingTrust
import StarlingWire

/// Probes over a stream (memberlist's TCP fallback ping). The ping and its ack travel sealed
/// exactly as datagrams are (pairwise MAC, keyring encryption), inside a request and its response,
/// so a stream probe proves what a datagram probe proves: the member itself answered.
extension Peer {
    mutating func startStreamProbe<R: RandomNumberGenerator>(
        to node: NodeID, address: PeerAddress, messages: [MembershipMessage], timeout: Duration,
        now: Instant, random: inout R, into effects: inout [PeerEffect]
    ) {
        guard case let .ping(sequence, _)? = messages.first else { return }
        var writer = WireWriter()
        for message in messages { writer.write(message) }
        guard let sealed = try? codec.seal(writer.bytes, to: node, random: &random),
              let frame = try? Envelope(tag: .probeRequest, body: sealed).streamMessage()
        else {
            count("probes.stream unsealable")
            perform(membership.streamProbeFailed(sequence: sequence, now: now), now: now, random: &random, into: &effects)
            return
        }
        sendRequest(.probe(node, address, sequence: sequence), frame, to: address, timeout: timeout, into: &effects)
        count("probes.stream sent")
    }

    /// Answers a stream ping addressed to this node with a sealed ack; claims that came with it
    /// (a suspicion about us) go to the membership core like piggybacked ones.
    mutating func answerStreamProbe<R: RandomNumberGenerator>(
        _ reply: ReplyID, _ body: [UInt8], from source: PeerAddress, now: Instant, random: inout R,
        into effects: inout [PeerEffect]
    ) {
        let members = membership.members
        let opened: (sender: NodeID, payload: ArraySlice<UInt8>)
        let messages: [MembershipMessage]
        do {
            opened = try codec.open(body, from: source) { members[$0]?.address }
            var skipped = 0
            messages = try MembershipMessage.decodeAll(opened.payload, skipped: &skipped)
        } catch {
            count("dropped.stream probe unopenable")
            effects.append(.sendReply(reply, []))
            return
        }
        guard case let .ping(sequence, target)? = messages.first, target == membership.me else {
            count("dropped.stream probe not a ping for this node")
            effects.append(.sendReply(reply, []))
            return
        }
        let rest = Array(messages.dropFirst().filter { if case .claim = $0 { return true } else { return false } })
        if !rest.isEmpty {
            perform(membership.receive(rest, from: opened.sender, address: source, now: now, random: &random),
                    now: now, random: &random, into: &effects)
        }
        var writer = WireWriter()
        writer.write(MembershipMessage.ack(sequence: sequence))
        guard let sealed = try? codec.seal(writer.bytes, to: opened.sender, random: &random),
              let frame = try? Envelope(tag: .probeResponse, body: sealed).streamMessage()
        else {
            effects.append(.sendReply(reply, []))
            return
        }
        effects.append(.sendReply(reply, frame))
        count("probes.stream answered")
    }

    /// A sealed ack from the probed member counts as its ack; anything else is only counted.
    mutating func completeStreamProbe<R: RandomNumberGenerator>(
        _ result: Result<[UInt8], ExchangeFailure>, node: NodeID, address: PeerAddress, sequence: UInt32,
        now: Instant, random: inout R, into effects: inout [PeerEffect]
    ) {
        guard case let .success(bytes) = result else {
            count("probes.stream failed")
            perform(membership.streamProbeFailed(sequence: sequence, now: now), now: now, random: &random, into: &effects)
            return
        }
        let members = membership.members
        var skipped = 0
        guard let envelope = try? Envelope(streamMessage: bytes), envelope.tag == .probeResponse,
              let opened = try? codec.open(envelope.body, from: address, knownAddress: { members[$0]?.address }),
              opened.sender == node,
              let messages = try? MembershipMessage.decodeAll(opened.payload, skipped: &skipped),
              messages.count == 1, case .ack = messages[0]
        else {
            count("probes.stream bad response")
            perform(membership.streamProbeFailed(sequence: sequence, now: now), now: now, random: &random, into: &effects)
            return
        }
        count("probes.stream acked")
        perform(membership.receive(messages, from: node, address: address, now: now, random: &random),
                now: now, random: &random, into: &effects)
    }
}
