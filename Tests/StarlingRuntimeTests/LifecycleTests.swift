import Foundation
import Logging
import StarlingMembership
import StarlingPeer
@testable import StarlingRuntime
import StarlingStore
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct LifecycleTests {
    @Test func leaveWaitsForLeftThenClosesEverything() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let script = Script { input, now in
            switch input {
            case .start: return [.setTimer(TimerID(1), at: now + .seconds(60))]
            case .leave: return [.setTimer(TimerID(2), at: now + .milliseconds(50))]  // say goodbye, then go
            case .timerFired(TimerID(2)): return [.left, .log(.error, "after left: never performed")]
            default: return []
            }
        }
        let capture = LogCapture()
        let runtime = try startRuntime(script, on: loop, logger: capture.logger)
        runtime.leave()
        runtime.leave()  // once is enough
        #expect(script.sawLeave)
        // With every handle of the runtime closed, the loop has nothing left and returns.
        loop.run()
        #expect(runtime.stopReason == .left)
        #expect(script.inputs.filter { if case .leave = $0.input { true } else { false } }.count == 1)
        #expect(!capture.lines.contains { $0.1.contains("never performed") })
        #expect(capture.lines.contains { $0.0 == .info && $0.1 == "left the cluster" })
    }

    @Test func leaveStopsAfterTheGracePeriodIfTheMachineNeverLeaves() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let script = Script()
        let runtime = try startRuntime(script, on: loop, leaveGracePeriod: .milliseconds(200))
        let started = loop.now
        runtime.leave()
        #expect(loop.run(until: { runtime.stopReason != nil }, timeout: patience))
        #expect(runtime.stopReason == .gracePeriodExpired)
        #expect(loop.now - started >= .milliseconds(190))
    }

    @Test func aSignalAsksToLeaveAndASecondOneStopsAtOnce() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let script = Script()  // never emits .left
        let runtime = PeerRuntime(
            machine: FakeMachine(script: script), loop: loop,
            configuration: RuntimeConfiguration(
                listen: PeerAddress(host: "127.0.0.1", port: 0), handlesSignals: true, leaveGracePeriod: .seconds(60)),
            logger: quietLogger)
        try runtime.start()
        // The watchers are installed and the signals unblocked on this thread, so raise() hands each
        // signal to libuv's handler before it returns; the loop then delivers it.
        raise(SIGTERM)
        #expect(loop.run(until: { script.sawLeave }, timeout: patience))
        #expect(runtime.isRunning)
        raise(SIGINT)
        #expect(loop.run(until: { runtime.stopReason != nil }, timeout: patience))
        #expect(runtime.stopReason == .forced)
    }

    @Test func logOutputsReachTheLoggerAndPersistReachesTheStore() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Store(directory: directory)
        let state = PersistedState(
            incarnation: 7, knownPeers: [PeerAddress(host: "10.0.0.2", port: 7946), PeerAddress(host: "::1", port: 7947)])
        let script = Script { input, _ in
            guard case .start = input else { return [] }
            return [.log(.notice, "hello from the machine"), .persist(state)]
        }
        let capture = LogCapture()
        let loop = try EventLoop()
        defer { loop.close() }
        let runtime = PeerRuntime(
            machine: FakeMachine(script: script), loop: loop,
            configuration: RuntimeConfiguration(listen: PeerAddress(host: "127.0.0.1", port: 0)),
            store: store, logger: capture.logger)
        try runtime.start()
        #expect(capture.lines.contains { $0.0 == .notice && $0.1 == "hello from the machine" })
        #expect(try store.persistedState() == state)
        #expect(try Store(directory: directory).persistedState() == state)
        runtime.stop()
    }

    @Test func startFailsClearlyWhenThePortIsTaken() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let first = try startRuntime(Script(), on: loop)
        let taken = try #require(first.boundAddress)
        let second = PeerRuntime(
            machine: FakeMachine(script: Script()), loop: loop,
            configuration: RuntimeConfiguration(listen: taken), logger: quietLogger)
        let error = #expect(throws: RuntimeError.self) { try second.start() }
        #expect(error?.description == "cannot bind UDP \(taken): address already in use")
        #expect(second.stopReason == .stopped)
    }

    @Test func addressesAreLiteralsOrResolvedOnce() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        #expect(try AddressResolver.resolve(PeerAddress(host: "127.0.0.1", port: 1), on: loop) == PeerAddress(host: "127.0.0.1", port: 1))
        #expect(try AddressResolver.resolve(PeerAddress(host: "::1", port: 2), on: loop) == PeerAddress(host: "::1", port: 2))
        let localhost = try AddressResolver.resolve(PeerAddress(host: "localhost", port: 3), on: loop)
        #expect(AddressResolver.isLiteral(localhost) && localhost.port == 3)
        #expect(throws: RuntimeError.self) {
            try AddressResolver.resolve(PeerAddress(host: "no-such-host.invalid", port: 4), on: loop)
        }
        #expect(AddressResolver.isUnspecified(PeerAddress(host: "0.0.0.0", port: 5)))
        #expect(AddressResolver.isUnspecified(PeerAddress(host: "::", port: 5)))
        #expect(!AddressResolver.isUnspecified(PeerAddress(host: "127.0.0.1", port: 5)))
        let mapped = try SocketAddress(ip: "127.0.0.1", port: 9).mappedToIPv6
        #expect(mapped.isIPv6 && mapped.host == "::ffff:127.0.0.1" && mapped.peerAddress == PeerAddress(host: "127.0.0.1", port: 9))
    }

    @Test func ipv6LoopbackCarriesDatagramsAndRequests() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let server = ExchangeTests.echoServer()
        let b = PeerRuntime(
            machine: FakeMachine(script: server), loop: loop,
            configuration: RuntimeConfiguration(listen: PeerAddress(host: "::1", port: 0)), logger: quietLogger)
        do {
            try b.start()
        } catch {
            return  // no IPv6 loopback on this machine: nothing to test.
        }
        let to = try #require(b.boundAddress)
        #expect(to.host == "::1")
        let client = Script { input, _ in
            guard case .start = input else { return [] }
            return [.sendDatagram([1], to: to), .sendRequest(ExchangeID(1), [1, 2], to: to, timeout: .seconds(10))]
        }
        let a = PeerRuntime(
            machine: FakeMachine(script: client), loop: loop,
            configuration: RuntimeConfiguration(listen: PeerAddress(host: "::1", port: 0)), logger: quietLogger)
        try a.start()
        #expect(loop.run(until: { client.responses.count == 1 && server.datagrams.count == 1 }, timeout: patience))
        #expect(try client.responses.first?.result.get() == [2, 1])
        #expect(server.datagrams.first?.from == a.boundAddress)
    }
}
