import StarlingCrypto
import StarlingMembership
import StarlingPeer
import StarlingTrust
@testable import StarlingSimulator

/// What a `ScriptedMachine` saw, shared with the test (machines are values inside the engine).
final class Recorder {
    struct Entry {
        var node: String
        var localTime: Instant
        var globalTime: Instant?
        var input: PeerInput
    }

    var entries: [Entry] = []
    var starts: [(node: String, persisted: PersistedState?)] = []

    func inputs(of node: String) -> [Entry] { entries.filter { $0.node == node } }

    func datagrams(to node: String) -> [(Instant, [UInt8], PeerAddress)] {
        inputs(of: node).compactMap { entry in
            if case let .datagram(bytes, from) = entry.input { return (entry.localTime, bytes, from) }
            return nil
        }
    }

    func responses(of node: String) -> [(Instant, ExchangeID, Result<[UInt8], ExchangeFailure>)] {
        inputs(of: node).compactMap { entry in
            if case let .responseReceived(id, result) = entry.input { return (entry.localTime, id, result) }
            return nil
        }
    }

    func timers(of node: String) -> [(Instant, TimerID)] {
        inputs(of: node).compactMap { entry in
            if case let .timerFired(id) = entry.input { return (entry.localTime, id) }
            return nil
        }
    }
}

/// A machine that records every input and answers with whatever its script returns.
struct ScriptedMachine: PeerMachine {
    let name: String
    let recorder: Recorder
    let script: (PeerInput, Instant) -> [PeerEffect]
    var members: [MemberView] = []
    var counters: [String: UInt64] = [:]

    mutating func handle<R: RandomNumberGenerator>(_ input: PeerInput, now: Instant, random: inout R) -> [PeerEffect] {
        recorder.entries.append(.init(node: name, localTime: now, input: input))
        return script(input, now)
    }
}

enum TestNodes {
    /// A NodeID from any integer (no key generation; fine where nothing is signed).
    static func nodeID(_ n: Int) -> NodeID {
        var bytes = [UInt8](repeating: 0, count: 32)
        var value = UInt64(n) &+ 1
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: value); value >>= 8 }
        return NodeID(try! PublicKey(bytes: bytes))
    }

    static func address(_ n: Int) -> PeerAddress { PeerAddress(host: "10.0.0.\(n + 1)", port: 7946) }

    /// Adds a scripted node named `n<index>`.
    @discardableResult
    static func addScripted(_ simulation: Simulation, _ recorder: Recorder, clock: NodeClock = .exact,
                            script: @escaping (PeerInput, Instant) -> [PeerEffect] = { _, _ in [] }) -> Int {
        let index = simulation.nodeCount
        let name = "n\(index)"
        return simulation.addNode(NodeSpec(
            name: name, address: address(index), identity: nodeID(index),
            makeMachine: { start in
                recorder.starts.append((name, start.persisted))
                return ScriptedMachine(name: name, recorder: recorder, script: script)
            }), clock: clock)
    }

    /// Adds `count` heartbeat nodes bootstrapping from node 0, all started at `startAt`.
    static func addHeartbeats(_ simulation: Simulation, count: Int, startAt: Instant = .zero,
                              directory: HeartbeatDirectory = HeartbeatDirectory(),
                              configuration: HeartbeatMachine.Configuration = .init()) -> [Int] {
        (0..<count).map { _ in
            let index = simulation.nodeCount
            let identity = HeartbeatMachine.Identity(name: "node-\(index)", node: nodeID(index), address: address(index))
            let bootstrap = index == 0 ? [] : [address(0)]
            let node = simulation.addNode(NodeSpec(
                name: identity.name, address: identity.address, identity: identity.node,
                makeMachine: { start in
                    HeartbeatMachine(identity: identity, bootstrap: bootstrap, persisted: start.persisted,
                                     directory: directory, configuration: configuration)
                }))
            simulation.scheduleStart(node, at: startAt)
            return node
        }
    }
}

extension Instant {
    static func seconds(_ s: Double) -> Instant { Instant(nanoseconds: Int64(s * 1e9)) }
}

/// Member views set by the test, shown by `BoardMachine`s.
final class ViewBoard {
    var views: [String: [MemberView]] = [:]

    func member(_ simulation: Simulation, _ node: Int, _ state: MemberState) -> MemberView {
        MemberView(name: simulation.name(of: node), node: simulation.identity(of: node)!, address: simulation.address(of: node),
                   state: state, incarnation: 1, tags: [:], isLocal: false)
    }

    /// Every node in `observers` holds every node in `members` (but itself) in `state`.
    func everyone(_ simulation: Simulation, observers: Range<Int>, members: Range<Int>, _ state: MemberState = .alive) {
        for observer in observers {
            views["n\(observer)"] = members.filter { $0 != observer }.map { member(simulation, $0, state) }
        }
    }
}

/// A machine that does nothing and shows the view the board holds for it.
struct BoardMachine: PeerMachine {
    let name: String
    let board: ViewBoard
    var members: [MemberView] { board.views[name] ?? [] }
    var counters: [String: UInt64] { [:] }
    mutating func handle<R: RandomNumberGenerator>(_ input: PeerInput, now: Instant, random: inout R) -> [PeerEffect] { [] }
}

extension TestNodes {
    /// `count` board nodes `n0`... with identities, started at 0 (unless `started` says otherwise).
    static func addBoards(_ simulation: Simulation, _ board: ViewBoard, count: Int, started: (Int) -> Bool = { _ in true }) {
        for index in 0..<count {
            let node = simulation.addNode(NodeSpec(name: "n\(index)", address: address(index), identity: nodeID(index),
                                                   makeMachine: { _ in BoardMachine(name: "n\(index)", board: board) }))
            if started(index) { simulation.start(node) }
        }
    }
}
