import StarlingMembership
import StarlingPeer
@testable import StarlingRuntime
import Testing

@Suite(.serialized) struct TimerTests {
    @Test func timersFireInDeadlineOrderWithReplacementAndCancel() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        var deadlines: [TimerID: Instant] = [:]
        let script = Script { input, now in
            guard case .start = input else { return [] }
            let plan: [(UInt64, Duration)] = [(1, .milliseconds(60)), (2, .milliseconds(20)), (3, .milliseconds(40)),
                                              (4, .milliseconds(30))]
            var outputs = plan.map { PeerEffect.setTimer(TimerID($0.0), at: now + $0.1) }
            outputs.append(.setTimer(TimerID(4), at: now + .milliseconds(80)))  // replaces the 30 ms one
            outputs.append(.cancelTimer(TimerID(3)))
            outputs.append(.setTimer(TimerID(5), at: now - .seconds(1)))  // already due: fires first
            for case let .setTimer(id, at) in outputs { deadlines[id] = at }
            return outputs
        }
        let runtime = try startRuntime(script, on: loop)
        #expect(loop.run(until: { script.firedTimers.count == 4 }, timeout: patience))
        // Nothing else fires: timer 3 was cancelled, timer 4 fires once (the replacement).
        loop.run(until: { false }, timeout: .milliseconds(150))
        #expect(script.firedTimers.map(\.id.rawValue) == [5, 2, 1, 4])
        for fired in script.firedTimers {
            #expect(fired.at >= deadlines[fired.id]!, "\(fired.id) fired before its deadline")
        }
        #expect(runtime.counters["timers.fired"] == 4)
    }

    @Test func aTimerSetWhileFiringWaitsForTheNextTurnAndCancelOfAFiredTimerIsHarmless() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        var rounds = 0
        let script = Script { input, now in
            switch input {
            case .start:
                return [.setTimer(TimerID(1), at: now)]
            case .timerFired:
                rounds += 1
                // Keep re-arming in the past: each fires on a later turn, and I/O is not starved.
                return rounds < 50 ? [.cancelTimer(TimerID(1)), .setTimer(TimerID(1), at: now - .seconds(1))] : []
            default:
                return []
            }
        }
        let runtime = try startRuntime(script, on: loop)
        #expect(loop.run(until: { script.firedTimers.count == 50 }, timeout: patience))
        #expect(runtime.counters["timers.fired"] == 50)
    }

    @Test func heapOrdersByDeadlineThenBySetOrderAndSkipsStaleEntries() {
        var heap = TimerHeap()
        let base = Instant(nanoseconds: 1_000)
        for id in 0..<200 { heap.set(TimerID(UInt64(id)), at: base + .nanoseconds(Int64(id % 10))) }
        for id in stride(from: 0, to: 200, by: 2) { heap.cancel(TimerID(UInt64(id))) }
        heap.set(TimerID(1), at: base + .nanoseconds(100))  // replaced: now last
        #expect(heap.count == 100)
        var order: [UInt64] = []
        while let id = heap.popDue(now: base + .seconds(1), setBefore: heap.nextSequence) { order.append(id.rawValue) }
        let expected = (0..<200).filter { $0 % 2 == 1 && $0 != 1 }.sorted { ($0 % 10, $0) < ($1 % 10, $1) }.map(UInt64.init) + [1]
        #expect(order == expected)
        #expect(heap.isEmpty)
    }

    @Test func timerDelaysRoundUpToWholeMilliseconds() {
        #expect(LoopTimer.milliseconds(.zero) == 0)
        #expect(LoopTimer.milliseconds(.nanoseconds(-5)) == 0)
        #expect(LoopTimer.milliseconds(.nanoseconds(1)) == 1)
        #expect(LoopTimer.milliseconds(.milliseconds(20)) == 20)
        #expect(LoopTimer.milliseconds(.microseconds(20_001)) == 21)
    }
}
