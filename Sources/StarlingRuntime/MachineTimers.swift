import StarlingMembership
import StarlingPeer

/// The machine's timers (`setTimer`/`cancelTimer`), all on one uv_timer armed for the earliest.
///
/// Why one uv_timer over a heap rather than one uv_timer per `TimerID`: a SWIM peer sets and
/// cancels timers constantly (a probe timeout per period, a suspicion timer per suspect), and a
/// libuv handle per id would mean an allocation per id and an asynchronous `uv_close` per cancel,
/// with the memory in limbo until the close callback. With one handle, set and cancel are pure
/// bookkeeping on a Swift heap, shutdown has a single handle to close, and equal deadlines fire in
/// a defined order (the order they were set), as in the simulator.
final class MachineTimers {
    private let loop: EventLoop
    private let alarm: LoopTimer
    private var heap = TimerHeap()
    /// Delivers `timerFired`; the runtime queues the input for the machine.
    var onFire: ((TimerID) -> Void)?
    private var isClosed = false

    init(loop: EventLoop) throws {
        self.loop = loop
        alarm = try LoopTimer(loop: loop)
    }

    var pendingCount: Int { heap.count }

    /// Fires `id` at `deadline` (on the next turn of the loop if that is past), replacing a pending
    /// timer of the same id.
    func set(_ id: TimerID, at deadline: Instant) {
        guard !isClosed else { return }
        heap.set(id, at: deadline)
        rearm()
    }

    func cancel(_ id: TimerID) {
        guard !isClosed, heap.isPending(id) else { return }
        heap.cancel(id)
        rearm()
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        heap.removeAll()
        alarm.close()
        onFire = nil
    }

    private func rearm() {
        guard !isClosed else { return }
        guard let first = heap.first() else {
            alarm.stop()
            return
        }
        let delay = first.deadline - loop.now
        alarm.start(after: delay < .zero ? .zero : delay) { [unowned self] in self.fireDue() }
    }

    private func fireDue() {
        let now = loop.now
        let sequenceLimit = heap.nextSequence
        while !isClosed, let id = heap.popDue(now: now, setBefore: sequenceLimit) {
            onFire?(id)
        }
        rearm()
    }
}
