import Foundation
import NIOCore

/// What the server's connections share across NIO threads: the counters, the calls in flight, the
/// open connections, and whether the server still runs. One lock; nothing blocks under it.
final class InferenceHTTPState: @unchecked Sendable {
    let settings: InferenceHTTPSettings
    private let lock = NSLock()
    private var counters: [String: UInt64] = [:]
    private var callsInFlight = 0
    private var connections = 0
    private var running = true

    init(settings: InferenceHTTPSettings) {
        self.settings = settings
    }

    func count(_ name: String) {
        lock.withLock { counters[name, default: 0] &+= 1 }
    }

    func snapshot() -> [String: UInt64] {
        lock.withLock {
            var copy = counters
            copy["http.calls_in_flight"] = UInt64(callsInFlight)
            copy["http.connections_open"] = UInt64(connections)
            return copy
        }
    }

    /// Takes one call slot, or says false when `callsInFlightMax` are taken.
    func startCall() -> Bool {
        lock.withLock {
            guard callsInFlight < settings.callsInFlightMax else { return false }
            callsInFlight += 1
            return true
        }
    }

    func endCall() {
        lock.withLock {
            precondition(callsInFlight > 0, "a call ended that never started")
            callsInFlight -= 1
        }
    }

    /// Counts a new connection, or says false when `connectionsMax` are open.
    func openConnection() -> Bool {
        lock.withLock {
            guard connections < settings.connectionsMax else { return false }
            connections += 1
            return true
        }
    }

    func closeConnection() {
        lock.withLock {
            precondition(connections > 0, "a connection closed that never opened")
            connections -= 1
        }
    }

    /// Runs `task` on `eventLoop` unless the server has stopped: a backend's reply may come from
    /// any thread at any time, also after `shutdown` began, when the loops take no more tasks.
    func execute(on eventLoop: any EventLoop, _ task: @escaping @Sendable () -> Void) -> Bool {
        lock.withLock {
            guard running else { return false }
            eventLoop.execute(task)
            return true
        }
    }

    /// Stops `execute`; says whether the server was running.
    func stop() -> Bool {
        lock.withLock {
            defer { running = false }
            return running
        }
    }
}
