import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust

/// What the host does with its programs' effects and the driver's answers.
extension Peer {
    /// Performs a program's effects for task `id`, in order.
    mutating func perform(_ effects: [ProgramEffect], task id: TaskID, now: Instant, outputs: inout [PeerOutput]) {
        for effect in effects {
            switch effect {
            case let .sign(body, along, pushTo, counter, log):
                guard signAndPush(body, task: id, along: along, to: pushTo, outputs: &outputs) == .added else { continue }
                if let counter { count(counter) }
                if let (level, text) = log { outputs.append(.log(level, text)) }
            case let .commit(entry, log):
                startCommit(id, commit: entry, log: log, now: now, outputs: &outputs)
            case let .work(work):
                taskBook.engaged.insert(id)
                outputs.append(.work(work))
            case let .holdsModel(hash):
                taskBook.modelHeld(hash, max: taskSettings.heldModelsMax)
            case let .count(name, amount):
                peerCounters[name, default: 0] += amount
            case let .log(level, text):
                outputs.append(.log(level, text))
            }
        }
    }

    /// Stops the driver's work for a task once.
    mutating func release(_ id: TaskID, reason: String, outputs: inout [PeerOutput]) {
        guard taskBook.engaged.remove(id) != nil else { return }
        taskBook.programs[id] = nil
        outputs.append(.work(.release(task: id, reason: reason)))
    }

    /// The driver's answer to a `work` effect.
    mutating func workDone(_ result: TaskWorkResult, now: Instant, outputs: inout [PeerOutput]) {
        lastNow = now
        programWorkDone(result, now: now, outputs: &outputs)
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
