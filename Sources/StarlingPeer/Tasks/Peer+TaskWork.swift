import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust

/// What the host does with its programs' effects and the driver's answers.
extension Peer {
    /// Performs a program's effects for task `id`, in order.
    mutating func perform(_ programEffects: [ProgramEffect], task id: TaskID, now: Instant, effects: inout [PeerEffect]) {
        for effect in programEffects {
            switch effect {
            case let .sign(body, along, pushTo, counter, log):
                guard signAndPush(body, task: id, along: along, to: pushTo, effects: &effects) == .added else { continue }
                if let counter { count(counter) }
                if let (level, text) = log { effects.append(.log(level, text)) }
            case let .commit(entry, log):
                startCommit(id, commit: entry, log: log, now: now, effects: &effects)
            case let .work(work):
                taskBook.engaged.insert(id)
                effects.append(.work(work))
            case let .holdsModel(hash):
                taskBook.modelHeld(hash, max: taskSettings.heldModelsMax)
            case let .count(name, amount):
                peerCounters[name, default: 0] += amount
            case let .log(level, text):
                effects.append(.log(level, text))
            }
        }
    }

    /// Stops the driver's work for a task once.
    mutating func release(_ id: TaskID, reason: String, effects: inout [PeerEffect]) {
        guard taskBook.engaged.remove(id) != nil else { return }
        taskBook.programs[id] = nil
        effects.append(.work(.release(task: id, reason: reason)))
    }

    /// The driver's answer to a `work` effect.
    mutating func workDone(_ result: TaskWorkResult, now: Instant, effects: inout [PeerEffect]) {
        lastNow = now
        programWorkDone(result, now: now, effects: &effects)
    }

    /// Where a node's blobs can be fetched (this peer's own address for itself).
    func blobSource(_ node: NodeID) -> BlobSource? {
        if node == membership.me { return BlobSource(node: node, address: membership.address) }
        return membership.members[node].map { BlobSource(node: node, address: $0.address) }
    }

    /// `text` cut to at most `bytes` UTF-8 bytes on a character boundary, control characters removed.
    static func clip(_ text: String, to bytes: Int) -> String {
        var result = ""
        var used = 0
        for character in text where !character.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            let size = character.utf8.count
            guard used + size <= bytes else { break }
            result.append(character)
            used += size
        }
        return result
    }
}
