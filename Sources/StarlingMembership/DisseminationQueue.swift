import StarlingTrust

/// Updates waiting to be piggybacked, each sent a bounded number of times.
///
/// Holds at most one alive claim and one verdict (suspect, dead, leave) per member, a newer one
/// replacing the older, and at most one revocation. Alive claims and verdicts have separate slots
/// so that a fresh suspicion never stops a refutation from spreading: a node that holds the old
/// suspicion needs that refutation, since it cannot accept a suspicion of an incarnation it has not
/// heard announced. The queue hands out the least-transmitted entries first, newest first among
/// equals, as memberlist does.
/// Kept sorted in an array with an index by key, so enqueue and take cost O(log n) searches plus a
/// memmove, with n bounded by `capacity`.
struct DisseminationQueue {
    enum Key: Hashable {
        /// A member's own alive claim.
        case member(NodeID)
        /// A suspect, dead or leave claim about a member.
        case verdict(NodeID)
        case revocation(NodeID)
    }

    private struct Entry {
        let key: Key
        let message: MembershipMessage
        let size: Int
        var transmits: Int
        let order: UInt64
    }

    private var entries: [Entry] = []
    private var positions: [Key: (transmits: Int, order: UInt64)] = [:]
    private var nextOrder: UInt64 = 0
    let capacity: Int
    private(set) var droppedForCapacity: UInt64 = 0

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    /// Sorted by fewest transmits, then newest.
    private static func precedes(_ transmits: Int, _ order: UInt64, _ entry: Entry) -> Bool {
        transmits != entry.transmits ? transmits < entry.transmits : order > entry.order
    }

    private func insertionIndex(transmits: Int, order: UInt64) -> Int {
        var low = 0, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if Self.precedes(transmits, order, entries[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }

    private mutating func removeEntry(_ key: Key) {
        guard let position = positions.removeValue(forKey: key) else { return }
        let index = insertionIndex(transmits: position.transmits, order: position.order) - 1
        precondition(index >= 0 && entries[index].key == key, "dissemination queue index out of sync")
        entries.remove(at: index)
    }

    private mutating func insert(_ entry: Entry) {
        entries.insert(entry, at: insertionIndex(transmits: entry.transmits, order: entry.order))
        positions[entry.key] = (entry.transmits, entry.order)
    }

    /// Queues `message` under `key`, replacing what was queued under it.
    mutating func enqueue(_ message: MembershipMessage, key: Key) {
        removeEntry(key)
        if entries.count >= capacity, let last = entries.last {
            // Full: drop the most-transmitted, oldest entry (it has had the most chances to spread).
            removeEntry(last.key)
            droppedForCapacity += 1
        }
        nextOrder += 1
        insert(Entry(key: key, message: message, size: message.encodedSize, transmits: 0, order: nextOrder))
    }

    mutating func remove(_ key: Key) { removeEntry(key) }

    func contains(_ key: Key) -> Bool { positions[key] != nil }

    /// Takes messages that fit in `budget` bytes, least transmitted first. Each taken entry counts
    /// one transmission and is dropped after `transmitLimit`. Returns the messages and bytes used.
    mutating func take(budget: Int, transmitLimit: Int, scanMax: Int = 64) -> (messages: [MembershipMessage], bytes: Int) {
        var remaining = budget
        var chosen: [Int] = []
        var index = 0
        while index < entries.count && chosen.count < scanMax && remaining > 0 {
            if entries[index].size <= remaining {
                chosen.append(index)
                remaining -= entries[index].size
            }
            index += 1
        }
        guard !chosen.isEmpty else { return ([], 0) }
        var taken: [Entry] = []
        taken.reserveCapacity(chosen.count)
        for index in chosen.reversed() {
            let entry = entries.remove(at: index)
            positions[entry.key] = nil
            taken.append(entry)
        }
        taken.reverse()
        for var entry in taken {
            entry.transmits += 1
            if entry.transmits < transmitLimit { insert(entry) }
        }
        return (taken.map(\.message), budget - remaining)
    }
}
