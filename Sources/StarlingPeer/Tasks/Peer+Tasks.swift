import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust
import StarlingWire

/// Tasks in the peer: submission and cancel from the local API, adverts piggybacked on membership
/// datagrams, differences pulled over streams, and every tick the election, leases, rounds and
/// reports (`Peer+TaskRounds.swift`). docs/tasks.md has the rules.
extension Peer {
    /// Roles certified for a node, as the task rules need them (nil: not a member we know).
    var roleLookup: RoleLookup {
        let members = membership.members, me = membership.me, mine = membership.certificate.roles
        let archive = taskBook.certificates
        return { node in
            node == me ? mine : members[node]?.aliveClaim.certificate.roles ?? archive[node]?.roles
        }
    }

    /// The certificate of a node, from membership or from those task messages brought.
    func certificate(of node: NodeID) -> Certificate? {
        node == membership.me ? membership.certificate
            : membership.members[node]?.aliveClaim.certificate ?? taskBook.certificates[node]
    }

    /// The certificates a peer needs to check a task's spec and entries.
    func certificates(for state: TaskState, entries: [TaskEntry]) -> [Certificate] {
        var nodes: Set<NodeID> = [state.signedSpec.submitter]
        for entry in entries { nodes.insert(entry.author) }
        return nodes.sorted().compactMap { certificate(of: $0) }
    }

    /// Keeps the certificates of a task message that verify against the authority, now, and the
    /// revocations (the others are counted and ignored).
    mutating func learnCertificates(_ certificates: [Certificate], now: Instant) {
        for certificate in certificates where roleLookup(certificate.node) == nil {
            do {
                try certificate.verify(authority: membership.authority, now: unixNow(now), revocations: membership.revocations)
            } catch {
                count("dropped.task certificate invalid")
                continue
            }
            guard taskBook.certificates.count < taskSettings.certificatesMax else {
                count("dropped.task certificate over limit")
                continue
            }
            taskBook.certificates[certificate.node] = certificate
        }
    }

    var unixNow: (Instant) -> UInt64 { { [membership] now in membership.unixTime(at: now) } }

    /// How many datagrams carry a changed task's advert: multiplier × ceil(log10(N + 1)), at least 2 digits.
    var advertSends: Int {
        var digits = 0, power = 1
        while power < membership.liveCount + 1 { power *= 10; digits += 1 }
        return taskSettings.advertMultiplier * max(2, digits)
    }

    // MARK: Operator requests

    mutating func submitTask(specBytes: [UInt8], now: Instant, effects: inout [PeerEffect]) -> ControlAnswer {
        guard membership.certificate.roles.contains(.submit) else {
            return ControlAnswer(ok: false, message: "this peer's certificate does not carry the submit role (authority admit --roles ...,submit)")
        }
        let spec: TaskSpec
        do { spec = try TaskSpec(wireBytes: specBytes) } catch {
            return ControlAnswer(ok: false, message: "the spec bytes are not a canonical task spec: \(error)")
        }
        guard TaskPrograms.supports(spec.kind) else {
            return ControlAnswer(ok: false, message: "\(spec.kind.name) \(spec.name) is a valid spec, but this peer has no program "
                + "for the kind \(spec.kind.name) yet: it runs \(TaskPrograms.supportedNames.joined(separator: ", ")). Nothing was submitted.")
        }
        let signed: SignedTaskSpec
        do { signed = try SignedTaskSpec.sign(spec, submittedAt: unixNow(now), with: membership.identity) } catch {
            return ControlAnswer(ok: false, message: "cannot sign the spec: \(error)")
        }
        let fields = ["id": signed.id.text, "name": spec.name]
        if taskBook.states[signed.id] != nil {
            return ControlAnswer(ok: true, message: "task \(spec.name) was already submitted as \(signed.id.text)", fields: fields)
        }
        guard taskBook.states.count < taskSettings.tasksMax else {
            return ControlAnswer(ok: false, message: "this peer holds \(taskSettings.tasksMax) tasks already (TaskSettings.tasksMax)")
        }
        taskBook.states[signed.id] = TaskState(spec: signed)
        taskChanged(signed.id, effects: &effects)
        count("tasks.submitted")
        effects.append(.log(.info, "task \(spec.name) (\(signed.id.short)) submitted"))
        return ControlAnswer(ok: true, message: "submitted task \(spec.name) as \(signed.id.text)", fields: fields)
    }

    mutating func cancelTask(_ reference: String, reason: String, effects: inout [PeerEffect]) -> ControlAnswer {
        guard let id = taskBook.resolve(reference) else { return ControlAnswer(ok: false, message: "no task \(reference)") }
        guard membership.certificate.roles.contains(.submit) else {
            return ControlAnswer(ok: false, message: "this peer's certificate does not carry the submit role, which cancel needs")
        }
        let view = taskBook.states[id]!.view
        if view.phase == .completed {
            return ControlAnswer(ok: false, message: "task \(taskBook.states[id]!.spec.name) has completed; there is nothing to cancel")
        }
        if view.phase == .cancelled {
            return ControlAnswer(ok: true, message: "task \(taskBook.states[id]!.spec.name) was already cancelled: \(view.cancelReason ?? "")",
                                 fields: ["id": id.text])
        }
        let text = String(reason.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(200))
        let outcome = sign(.cancel(reason: text.isEmpty ? "cancelled by an operator" : text), task: id, effects: &effects)
        guard outcome == .added || outcome == .duplicate else {
            return ControlAnswer(ok: false, message: "cancel refused: \(outcome)")
        }
        return ControlAnswer(ok: true, message: "cancelled task \(taskBook.states[id]!.spec.name)", fields: ["id": id.text])
    }

    // MARK: State changes

    /// Signs an entry as this peer, merges it, and spreads it.
    @discardableResult
    mutating func sign(_ body: TaskEntryBody, task id: TaskID, effects: inout [PeerEffect]) -> MergeOutcome {
        precondition(taskBook.states[id] != nil, "entries (a lease above all) are signed only for tasks this peer holds")
        let entry = TaskEntry.sign(body, task: id, with: membership.identity)
        return merge([entry], into: id, effects: &effects)
    }

    /// Merges entries into a held task; spreads and persists it when anything was added.
    @discardableResult
    mutating func merge(_ entries: [TaskEntry], into id: TaskID, effects: inout [PeerEffect]) -> MergeOutcome {
        guard var state = taskBook.states[id] else { return .rejected(.wrongTask) }
        let roles = roleLookup
        var added = false
        var last = MergeOutcome.duplicate
        for entry in entries {
            last = state.merge(entry, roles: roles, verifier: signatureCache)
            switch last {
            case .added:
                added = true
                count("tasks.entries accepted")
                rememberCertificate(of: entry.author)
            case .duplicate, .superseded: count("tasks.entries stale")
            case let .rejected(reason): count("tasks.entries rejected \(reason.counterName)")
            }
        }
        taskBook.states[id] = state
        if added { taskChanged(id, effects: &effects) }
        return added ? .added : last
    }

    /// Keeps a task author's certificate while it is a member, so this peer can vouch for its
    /// entries to peers that join after it has gone (`TaskEntries.certificates`).
    mutating func rememberCertificate(of node: NodeID) {
        guard taskBook.certificates[node] == nil, taskBook.certificates.count < taskSettings.certificatesMax,
              let certificate = certificate(of: node) else { return }
        taskBook.certificates[node] = certificate
    }

    mutating func taskChanged(_ id: TaskID, effects: inout [PeerEffect]) {
        if let submitter = taskBook.states[id]?.signedSpec.submitter { rememberCertificate(of: submitter) }
        taskBook.changed(id, sends: advertSends)
        if let state = taskBook.states[id] { effects.append(.persistTask(state)) }
    }

    // MARK: Adverts and pulls

    /// Reads the task adverts of a datagram from `sender` and pulls what differs.
    mutating func receiveAdverts(_ payload: ArraySlice<UInt8>, from sender: NodeID, address: PeerAddress,
                                 effects: inout [PeerEffect]) -> Int {
        var malformed = 0
        let adverts = TaskAdvert.adverts(in: payload, malformed: &malformed)
        if malformed > 0 { peerCounters["dropped.task advert malformed", default: 0] += UInt64(malformed) }
        for advert in adverts {
            if let state = taskBook.states[advert.id], state.digest == advert.digest { continue }
            if taskBook.states[advert.id] == nil && taskBook.states.count >= taskSettings.tasksMax {
                count("dropped.task advert over tasksMax")
                continue
            }
            startPull(advert.id, from: address, effects: &effects)
        }
        return adverts.count + malformed
    }

    mutating func startPull(_ id: TaskID, from address: PeerAddress, effects: inout [PeerEffect]) {
        guard !taskBook.pulling.contains(id), taskBook.pulling.count < taskSettings.pullsMax else { return }
        let state = taskBook.states[id]
        let request = TaskPullRequest(id: id, needSpec: state == nil, have: state?.entryHashes ?? [])
        guard let frame = try? Envelope(tag: .taskPullRequest, message: request).streamMessage() else {
            count("tasks.pull too large")
            return
        }
        taskBook.pulling.insert(id)
        sendRequest(.taskPull(id), frame, to: address, timeout: taskSettings.pullTimeout, into: &effects)
        count("tasks.pulls started")
    }

    /// Answers a pull: the spec if asked, and the entries the asker lacks.
    func answerPull(_ body: [UInt8]) -> [UInt8] {
        guard let request = try? TaskPullRequest(wireBytes: body), let state = taskBook.states[request.id] else { return [] }
        let entries = state.entries(notIn: Set(request.have))
        let answer = TaskEntries(id: request.id, spec: request.needSpec ? state.signedSpec : nil, entries: entries,
                                 certificates: certificates(for: state, entries: entries))
        return (try? Envelope(tag: .taskPullResponse, message: answer).streamMessage()) ?? []
    }

    mutating func completePull(_ id: TaskID, _ result: Result<[UInt8], ExchangeFailure>, now: Instant,
                               effects: inout [PeerEffect]) {
        taskBook.pulling.remove(id)
        guard case let .success(bytes) = result, !bytes.isEmpty else {
            count("tasks.pulls failed")
            return
        }
        guard let envelope = try? Envelope(streamMessage: bytes), envelope.tag == .taskPullResponse,
              let answer = try? TaskEntries(wireBytes: envelope.body), answer.id == id
        else {
            count("dropped.task pull bad response")
            return
        }
        learnCertificates(answer.certificates, now: now)
        guard adopt(answer, effects: &effects) else { return }
        merge(answer.entries, into: id, effects: &effects)
    }

    /// Makes sure the task of a pull answer or a commit push is held: a task this peer does not
    /// hold yet is taken from the message's spec, once that verifies. False when it is not held.
    mutating func adopt(_ message: TaskEntries, effects: inout [PeerEffect]) -> Bool {
        let id = message.id
        guard taskBook.states[id] == nil else { return true }
        guard let spec = message.spec, spec.id == id else {
            count("dropped.task message without spec")
            return false
        }
        do {
            taskBook.states[id] = try TaskState(verifying: spec, roles: roleLookup, verifier: signatureCache)
        } catch {
            count("tasks.specs rejected \(error.counterName)")
            return false
        }
        count("tasks.learned")
        effects.append(.log(.info, "task \(spec.spec.name) (\(id.short)) learned"))
        taskChanged(id, effects: &effects)
        return true
    }
}

extension TaskRejection {
    /// A short, stable name for counters.
    var counterName: String {
        switch self {
        case .wrongTask: return "wrong task"
        case .unknownAuthor: return "unknown author"
        case .missingRole: return "missing role"
        case .badSignature: return "bad signature"
        case .invalid: return "invalid"
        case .limitReached: return "limit reached"
        }
    }
}
