import HeapModule
import StarlingPeer

/// What happens when an event comes due. Node indices are 32-bit to keep events small; `epoch`
/// is the node's life the event belongs to (a crash or restart makes older events stale, so they
/// are skipped when popped instead of being searched for).
enum EventAction {
    case start(node: Int32, epoch: UInt32)
    case datagram(node: Int32, epoch: UInt32, from: Int32, bytes: [UInt8])
    case timer(node: Int32, epoch: UInt32, timer: UInt64, generation: UInt64)
    indirect case request(RequestDelivery)
    indirect case response(node: Int32, epoch: UInt32, exchange: UInt64, generation: UInt64,
                           result: Result<[UInt8], ExchangeFailure>)
    case exchangeDeadline(node: Int32, epoch: UInt32, exchange: UInt64, generation: UInt64)
    case leave(node: Int32, epoch: UInt32)
    /// The simulated driver finished a `TaskWork` order.
    indirect case workDone(node: Int32, epoch: UInt32, result: TaskWorkResult)
    /// A scheduled call into the simulation (faults, scripted events, checks).
    case script(Int)
    case sample
}

/// A request frame on its way to `target`.
struct RequestDelivery {
    var target: Int32
    var targetEpoch: UInt32
    var requester: Int32
    var requesterEpoch: UInt32
    var exchange: UInt64
    var generation: UInt64
    var bytes: [UInt8]
}

/// An event taken off the queue.
struct ScheduledEvent {
    var time: Int64
    /// Already held back once because its node was slow.
    var deferred: Bool
    var action: EventAction
}

/// The discrete-event queue: a min-heap of small, trivially copyable keys ordered by (time,
/// sequence), so ties break by insertion order and a run is a pure function of its seed. Payloads
/// wait in a slab (slots are reused, so the slab stays as large as the most events ever pending).
struct EventQueue {
    private struct Key: Comparable {
        var time: Int64
        /// Insertion order in the high 63 bits, the `deferred` flag in bit 0.
        var order: UInt64
        var slot: UInt32

        static func < (lhs: Key, rhs: Key) -> Bool {
            lhs.time != rhs.time ? lhs.time < rhs.time : lhs.order < rhs.order
        }

        static func == (lhs: Key, rhs: Key) -> Bool { lhs.time == rhs.time && lhs.order == rhs.order }
    }

    private var heap = Heap<Key>()
    private var payloads: [EventAction?] = []
    private var freeSlots: [UInt32] = []
    private var nextSequence: UInt64 = 0

    var count: Int { heap.count }
    var nextTime: Int64? { heap.min?.time }

    mutating func push(at time: Int64, _ action: EventAction, deferred: Bool = false) {
        let slot: UInt32
        if let free = freeSlots.popLast() {
            slot = free
            payloads[Int(slot)] = action
        } else {
            slot = UInt32(payloads.count)
            payloads.append(action)
        }
        heap.insert(Key(time: time, order: nextSequence << 1 | (deferred ? 1 : 0), slot: slot))
        nextSequence &+= 1
    }

    mutating func pop() -> ScheduledEvent? {
        guard let key = heap.popMin() else { return nil }
        let action = payloads[Int(key.slot)].take()!
        freeSlots.append(key.slot)
        return ScheduledEvent(time: key.time, deferred: key.order & 1 == 1, action: action)
    }
}
