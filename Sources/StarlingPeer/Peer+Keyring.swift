import StarlingCrypto
import StarlingMembership
import StarlingTrust
import StarlingWire

/// Cluster-wide gossip keyring operations, like Serf's `keys` command: an admin node applies the
/// change to its own keyring, then sends it to every live member over a stream (the key sealed with
/// the pairwise key, the request signed), and the operator polls the progress by operation id.
extension Peer {
    public static let keyringOperationsKept = 64
    public static let keyringRequestsRemembered = 1_024

    public mutating func control<R: RandomNumberGenerator>(
        _ request: ControlRequest, now: Instant, random: inout R
    ) -> (answer: ControlAnswer, effects: [PeerEffect]) {
        lastNow = now
        switch request {
        case let .submitTask(specBytes):
            var effects: [PeerEffect] = []
            let answer = submitTask(specBytes: specBytes, now: now, effects: &effects)
            return (answer, effects)
        case let .cancelTask(reference, reason):
            var effects: [PeerEffect] = []
            let answer = cancelTask(reference, reason: reason, effects: &effects)
            return (answer, effects)
        case let .rollbackJob(reference, version):
            var effects: [PeerEffect] = []
            let answer = rollbackJob(reference, version: version, now: now, effects: &effects)
            return (answer, effects)
        case let .setTags(tags):
            var effects: [PeerEffect] = []
            do {
                let membershipEffects = try membership.updateTags(tags, now: now)
                perform(membershipEffects, now: now, random: &random, into: &effects)
            } catch {
                return (ControlAnswer(ok: false, message: "tags refused: \(error)"), [])
            }
            return (ControlAnswer(ok: true, message: "tags announced at incarnation \(membership.incarnation)"), effects)
        case let .keyring(operation):
            return startKeyringOperation(operation, now: now, random: &random)
        case let .keyringStatus(id):
            guard let progress = keyringOperations[id] else {
                return (ControlAnswer(ok: false, message: "no keyring operation \(id) on this node"), [])
            }
            return (progress.answer(id: id), [])
        }
    }

    private mutating func startKeyringOperation<R: RandomNumberGenerator>(
        _ operation: KeyringOperation, now: Instant, random: inout R
    ) -> (answer: ControlAnswer, effects: [PeerEffect]) {
        guard membership.certificate.roles.contains(.admin) else {
            return (ControlAnswer(ok: false, message: "this node's certificate lacks the admin role: run the "
                + "command on a node admitted with --roles ...,admin"), [])
        }
        var effects: [PeerEffect] = []
        let (kind, key) = Self.parts(of: operation)
        if let key {
            var ring = codec.keyring ?? Keyring()
            do {
                try Self.apply(kind, key, to: &ring)
            } catch {
                return (ControlAnswer(ok: false, message: "\(error)"), [])
            }
            codec.keyring = ring
            persisted.keyring = ring
            effects.append(.persist(persisted))
        }
        let id = nextKeyringOperation
        nextKeyringOperation += 1
        let targets = membership.orderedMembers.filter { $0.state == .alive || $0.state == .suspect }
        var progress = KeyringProgress(operation: kind, fingerprint: key?.fingerprint, total: targets.count + 1)
        progress.record(member: membership.certificate.name, ok: true, message: "applied",
                        fingerprints: codec.keyring?.keys.map(\.fingerprint) ?? [], primary: codec.keyring?.primary?.fingerprint)
        let issuedAt = membership.unixTime(at: now)
        for target in targets {
            guard let frame = keyringRequestFrame(kind, key: key, to: target.node, issuedAt: issuedAt, random: &random) else {
                progress.record(member: target.name, ok: false, message: "cannot derive a pairwise key", fingerprints: [], primary: nil)
                continue
            }
            sendRequest(.keyring(operation: id, member: target.name), frame, to: target.address,
                        timeout: membership.settings.requestTimeout, into: &effects)
        }
        if keyringOperations.count >= Self.keyringOperationsKept, let oldest = keyringOperations.keys.min() {
            keyringOperations[oldest] = nil
        }
        keyringOperations[id] = progress
        count("keyring.operations started")
        return (ControlAnswer(ok: true, message: "keyring \(kind) sent to \(targets.count) member(s)",
                              fields: ["operation": String(id), "members": String(targets.count + 1)]), effects)
    }

    private mutating func keyringRequestFrame<R: RandomNumberGenerator>(
        _ kind: KeyringRequest.Operation, key: SymmetricKey?, to receiver: NodeID, issuedAt: UInt64, random: inout R
    ) -> [UInt8]? {
        let me = membership.me
        var sealed: [UInt8] = []
        if let key {
            guard let pairwise = try? codec.keys(with: receiver) else { return nil }
            sealed = AEAD.seal(key.secret.copiedBytes,
                               additionalData: KeyringRequest.additionalData(sender: me, receiver: receiver, operation: kind, issuedAt: issuedAt),
                               key: pairwise.sending, using: &random)
        }
        let signature = membership.identity.sign(KeyringRequest.bytesToSign(
            sender: me, receiver: receiver, operation: kind, sealedKey: sealed, issuedAt: issuedAt))
        let request = KeyringRequest(sender: me, operation: kind, sealedKey: sealed, issuedAt: issuedAt, signature: signature)
        return try? Envelope(tag: .keyringRequest, message: request).streamMessage()
    }

    /// A member's side: check who asks, when, and that it is not a replay; then apply.
    mutating func answerKeyringRequest(_ body: [UInt8], now: Instant, into effects: inout [PeerEffect]) -> [UInt8] {
        let response = keyringResponse(to: body, now: now, into: &effects)
        count(response.ok ? "keyring.requests applied" : "keyring.requests refused")
        return (try? Envelope(tag: .keyringResponse, message: response).streamMessage()) ?? []
    }

    private mutating func keyringResponse(to body: [UInt8], now: Instant, into effects: inout [PeerEffect]) -> KeyringResponse {
        guard let request = try? KeyringRequest(wireBytes: body) else {
            return KeyringResponse(ok: false, message: "malformed keyring request", keyring: codec.keyring)
        }
        guard let sender = membership.members[request.sender], sender.state == .alive || sender.state == .suspect,
              sender.aliveClaim.certificate.roles.contains(.admin)
        else { return KeyringResponse(ok: false, message: "the sender is not a live admin member", keyring: codec.keyring) }
        let wall = membership.unixTime(at: now)
        let skew = TrustLimits.clockSkewSeconds
        guard request.issuedAt + skew >= wall, request.issuedAt <= wall + skew else {
            return KeyringResponse(ok: false, message: "the request is too old or from the future", keyring: codec.keyring)
        }
        let me = membership.me
        let signed = KeyringRequest.bytesToSign(sender: request.sender, receiver: me, operation: request.operation,
                                                sealedKey: request.sealedKey, issuedAt: request.issuedAt)
        guard request.sender.publicKey.isValidSignature(request.signature, for: signed) else {
            return KeyringResponse(ok: false, message: "bad signature", keyring: codec.keyring)
        }
        guard !appliedKeyringRequests.contains(request.signature) else {
            return KeyringResponse(ok: false, message: "replayed request", keyring: codec.keyring)
        }
        if appliedKeyringRequests.count >= Self.keyringRequestsRemembered { appliedKeyringRequests.removeAll() }
        appliedKeyringRequests.insert(request.signature)
        guard request.operation != .list else {
            return KeyringResponse(ok: true, message: "listed", keyring: codec.keyring)
        }
        guard let pairwise = try? codec.keys(with: request.sender),
              let keyBytes = try? AEAD.open(request.sealedKey,
                                            additionalData: KeyringRequest.additionalData(
                                                sender: request.sender, receiver: me, operation: request.operation,
                                                issuedAt: request.issuedAt),
                                            key: pairwise.receiving),
              let key = try? SymmetricKey(bytes: keyBytes)
        else { return KeyringResponse(ok: false, message: "cannot open the sealed key", keyring: codec.keyring) }
        var ring = codec.keyring ?? Keyring()
        do {
            try Self.apply(request.operation, key, to: &ring)
        } catch {
            return KeyringResponse(ok: false, message: "\(error)", keyring: codec.keyring)
        }
        codec.keyring = ring
        persisted.keyring = ring
        effects.append(.persist(persisted))
        effects.append(.log(.notice, "keyring \(request.operation) of key \(key.fingerprint) by \(sender.name)"))
        return KeyringResponse(ok: true, message: "applied", keyring: ring)
    }

    mutating func recordKeyringResponse(_ result: Result<[UInt8], ExchangeFailure>, operation: UInt64, member: String) {
        guard var progress = keyringOperations[operation] else { return }
        switch result {
        case let .success(bytes):
            if let envelope = try? Envelope(streamMessage: bytes), envelope.tag == .keyringResponse,
               let response = try? KeyringResponse(wireBytes: envelope.body) {
                progress.record(member: member, ok: response.ok, message: response.message,
                                fingerprints: response.fingerprints, primary: response.primary)
            } else {
                progress.record(member: member, ok: false, message: "malformed response", fingerprints: [], primary: nil)
            }
        case let .failure(failure):
            progress.record(member: member, ok: false, message: "\(failure)", fingerprints: [], primary: nil)
        }
        keyringOperations[operation] = progress
    }

    static func parts(of operation: KeyringOperation) -> (KeyringRequest.Operation, SymmetricKey?) {
        switch operation {
        case let .install(key): return (.install, key)
        case let .use(key): return (.use, key)
        case let .remove(key): return (.remove, key)
        case .list: return (.list, nil)
        }
    }

    static func apply(_ operation: KeyringRequest.Operation, _ key: SymmetricKey, to ring: inout Keyring) throws {
        switch operation {
        case .install: try ring.install(key)
        case .use: try ring.use(key)
        case .remove: try ring.remove(key)
        case .list: break
        }
    }
}

/// What the members answered to one keyring operation.
public struct KeyringProgress: Sendable, Equatable {
    let operation: KeyringRequest.Operation
    let fingerprint: String?
    public let total: Int
    public private(set) var succeeded: [String] = []
    public private(set) var failed: [String: String] = [:]
    /// fingerprint → members holding it, and → members using it as primary (from the answers).
    public private(set) var installed: [String: Int] = [:]
    public private(set) var primaries: [String: Int] = [:]

    init(operation: KeyringRequest.Operation, fingerprint: String?, total: Int) {
        self.operation = operation
        self.fingerprint = fingerprint
        self.total = total
    }

    var answered: Int { succeeded.count + failed.count }
    var isDone: Bool { answered >= total }

    mutating func record(member: String, ok: Bool, message: String, fingerprints: [String], primary: String?) {
        if ok { succeeded.append(member) } else { failed[member] = message }
        for fingerprint in fingerprints { installed[fingerprint, default: 0] += 1 }
        if let primary { primaries[primary, default: 0] += 1 }
    }

    func answer(id: UInt64) -> ControlAnswer {
        var lines = ["\(operation)\(fingerprint.map { " \($0)" } ?? ""): \(answered) of \(total) member(s) answered, "
            + "\(succeeded.count) ok, \(failed.count) failed\(isDone ? "" : " (waiting)")"]
        for (member, reason) in failed.sorted(by: { $0.key < $1.key }) { lines.append("  \(member): \(reason)") }
        if operation == .list {
            for (key, count) in installed.sorted(by: { $0.key < $1.key }) {
                lines.append("  key \(key): installed on \(count) of \(total), primary on \(primaries[key] ?? 0)")
            }
        }
        return ControlAnswer(ok: failed.isEmpty, message: lines.joined(separator: "\n"), fields: [
            "operation": String(id), "done": isDone ? "true" : "false", "answered": String(answered),
            "total": String(total), "failed": String(failed.count),
        ])
    }
}

extension KeyringRequest.Operation: CustomStringConvertible {
    var description: String {
        switch self {
        case .install: return "install"
        case .use: return "use"
        case .remove: return "remove"
        case .list: return "list"
        }
    }
}
