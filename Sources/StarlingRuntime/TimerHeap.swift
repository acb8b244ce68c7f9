import StarlingMembership
import StarlingPeer

/// The machine's pending timers, ordered by deadline: a binary min-heap with lazy deletion.
///
/// `set` on a pending id records a new entry and marks the old one stale; `cancel` only marks. Stale
/// entries are skipped when they reach the top, and the heap is rebuilt when they outnumber live
/// ones, so memory stays proportional to pending timers. Ties on the deadline fire in the order
/// they were set, the same order the simulator uses, which keeps runs comparable.
struct TimerHeap {
    struct Entry {
        var deadline: Instant
        /// Order of `set` calls; also tells a live entry from a stale one.
        var sequence: UInt64
        var id: TimerID

        func precedes(_ other: Entry) -> Bool {
            (deadline, sequence) < (other.deadline, other.sequence)
        }
    }

    private var heap: [Entry] = []
    /// id → sequence of its live entry.
    private var live: [TimerID: UInt64] = [:]
    private(set) var nextSequence: UInt64 = 0

    var count: Int { live.count }
    var isEmpty: Bool { live.isEmpty }

    func isPending(_ id: TimerID) -> Bool { live[id] != nil }

    mutating func set(_ id: TimerID, at deadline: Instant) {
        let entry = Entry(deadline: deadline, sequence: nextSequence, id: id)
        nextSequence += 1
        live[id] = entry.sequence
        push(entry)
        compactIfMostlyStale()
    }

    mutating func cancel(_ id: TimerID) {
        live[id] = nil
        compactIfMostlyStale()
    }

    mutating func removeAll() {
        heap.removeAll()
        live.removeAll()
    }

    /// The earliest live entry.
    mutating func first() -> Entry? {
        dropStaleTop()
        return heap.first
    }

    /// Removes and returns the earliest live entry if it is due at `now` and was set before
    /// `sequenceLimit` (timers set while a batch fires wait for the next turn of the loop, so a
    /// machine that keeps setting past deadlines cannot starve I/O).
    mutating func popDue(now: Instant, setBefore sequenceLimit: UInt64) -> TimerID? {
        guard let top = first(), top.deadline <= now, top.sequence < sequenceLimit else { return nil }
        popTop()
        live[top.id] = nil
        return top.id
    }

    // MARK: Heap

    private mutating func dropStaleTop() {
        while let top = heap.first, live[top.id] != top.sequence { popTop() }
    }

    private mutating func compactIfMostlyStale() {
        guard heap.count > 64, heap.count > 4 * live.count else { return }
        heap = heap.filter { live[$0.id] == $0.sequence }
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    private mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func popTop() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        if !heap.isEmpty { siftDown(0) }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].precedes(heap[smallest]) { smallest = left }
            if right < heap.count, heap[right].precedes(heap[smallest]) { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
