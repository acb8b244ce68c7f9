import StarlingTestSupport
import Foundation
import Logging
import StarlingMembership
import StarlingPeer
@testable import StarlingRuntime
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What a fake machine saw and how it answers: a reference, so a test can read it while the
/// runtime holds the machine.
final class Script {
    private(set) var inputs: [(input: PeerInput, now: Instant)] = []
    var react: (PeerInput, Instant) -> [PeerEffect]
    var members: [MemberView] = []
    var tasks: [TaskSummary] = []
    /// Operator requests the runtime handed over, and how they are answered (refused by default).
    private(set) var controls: [ControlRequest] = []
    var answerControl: (ControlRequest) -> ControlAnswer = { _ in ControlAnswer(ok: false, message: "this machine has no control plane") }

    func control(_ request: ControlRequest) -> ControlAnswer {
        controls.append(request)
        return answerControl(request)
    }

    init(react: @escaping (PeerInput, Instant) -> [PeerEffect] = { _, _ in [] }) { self.react = react }

    func record(_ input: PeerInput, _ now: Instant) { inputs.append((input, now)) }

    var datagrams: [(bytes: [UInt8], from: PeerAddress)] {
        inputs.compactMap { if case let .datagram(bytes, from) = $0.input { return (bytes, from) } else { return nil } }
    }

    var firedTimers: [(id: TimerID, at: Instant)] {
        inputs.compactMap { if case let .timerFired(id) = $0.input { return (id, $0.now) } else { return nil } }
    }

    var requests: [(id: ReplyID, bytes: [UInt8], from: PeerAddress)] {
        inputs.compactMap {
            if case let .requestReceived(id, bytes, from) = $0.input { return (id, bytes, from) } else { return nil }
        }
    }

    var responses: [(id: ExchangeID, result: Result<[UInt8], ExchangeFailure>)] {
        inputs.compactMap {
            if case let .responseReceived(id, result) = $0.input { return (id, result) } else { return nil }
        }
    }

    var sawLeave: Bool { inputs.contains { if case .leave = $0.input { true } else { false } } }
}

/// A machine that does what its script says.
struct FakeMachine: PeerMachine {
    let script: Script

    mutating func handle<R: RandomNumberGenerator>(_ input: PeerInput, now: Instant, random: inout R) -> [PeerEffect] {
        script.record(input, now)
        return script.react(input, now)
    }

    var members: [MemberView] { script.members }
    var counters: [String: UInt64] { ["fake.inputs": UInt64(script.inputs.count)] }
    var tasks: [TaskSummary] { script.tasks }

    mutating func control<R: RandomNumberGenerator>(
        _ request: ControlRequest, now: Instant, random: inout R
    ) -> (answer: ControlAnswer, effects: [PeerEffect]) {
        (script.control(request), [])
    }
}

let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// A started runtime for `script` on `loop`, on 127.0.0.1 and a free port.
func startRuntime(
    _ script: Script, on loop: EventLoop, localAPIDirectory: String? = nil, leaveGracePeriod: Duration = .seconds(3),
    logger: Logger = quietLogger
) throws -> PeerRuntime<FakeMachine> {
    let runtime = PeerRuntime(
        machine: FakeMachine(script: script), loop: loop,
        configuration: RuntimeConfiguration(
            listen: PeerAddress(host: "127.0.0.1", port: 0), localAPIDirectory: localAPIDirectory,
            leaveGracePeriod: leaveGracePeriod),
        logger: logger)
    try runtime.start()
    return runtime
}

/// Generous: CI machines are loaded; every wait ends as soon as its condition holds.
let patience: Duration = .seconds(20)

func temporaryDirectory() -> String {
    // Short paths: a Unix socket path must fit in 107 bytes.
    let path = "/tmp/strt-\(UUID().uuidString.prefix(8))"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A loopback TCP port nothing listens on (bound, read, closed).
func closedTCPPort() -> UInt16 { unusedLoopbackPort() }

/// Plain POSIX sockets, playing a peer that does not follow the rules.
enum RawSocket {
    static func loopback(_ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    static func sendDatagram(_ bytes: [UInt8], toPort port: UInt16) {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(descriptor) }
        var address = loopback(port)
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(descriptor, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        precondition(sent == bytes.count, "sendto: \(String(cString: strerror(errno)))")
    }

    /// A connected TCP socket (the kernel completes the handshake from the listen backlog, so no loop
    /// needs to run), with `bytes` written. The caller closes it.
    static func connectAndWrite(_ bytes: [UInt8], toPort port: UInt16) -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = loopback(port)
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        precondition(status == 0, "connect: \(String(cString: strerror(errno)))")
        precondition(send(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count)
        return descriptor
    }
}

/// A value produced on another thread (a blocking client while the loop runs on this one).
final class Background<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Value?

    init(_ body: @escaping @Sendable () -> Value) {
        Thread { [self] in
            let value = body()
            lock.withLock { result = value }
        }.start()
    }

    var value: Value? { lock.withLock { result } }
    var isDone: Bool { value != nil }
}

/// Log lines captured from a runtime's Logger.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var captured: [(Logger.Level, String)] = []

    var lines: [(Logger.Level, String)] { lock.withLock { captured } }

    func append(_ level: Logger.Level, _ message: String) { lock.withLock { captured.append((level, message)) } }

    var logger: Logger { Logger(label: "test") { _ in Handler(capture: self) } }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) { capture.append(event.level, event.message.description) }
    }
}
