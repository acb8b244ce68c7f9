import Foundation
import StarlingRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The demo's peers: a throwaway authority, five identities, five `starling peer` processes on
/// loopback, and the local API to each. Every process it starts is stopped by `stopAll` (also on
/// SIGINT/SIGTERM of the demo).
final class DemoCluster: @unchecked Sendable {
    static let names = ["cloud", "edge-1", "edge-2", "edge-3", "edge-4"]

    let work: String
    let keep: Bool
    let executable: String
    private let lock = NSLock()
    private var processes: [String: Process] = [:]
    private var stopped = false

    init(keep: Bool) throws {
        var template = Array("\(NSTemporaryDirectory())/starling-demo.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw CLIError("cannot create a workspace in \(NSTemporaryDirectory())") }
        work = String(cString: made)
        self.keep = keep
        executable = PeerCommand.executablePath() ?? CommandLine.arguments[0]
    }

    func directory(_ name: String) -> String { "\(work)/\(name)" }

    /// `starling ARGS...`, quietly; its standard output, or an error with its standard error.
    @discardableResult
    func starling(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problem = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CLIError("starling \(arguments.joined(separator: " ")) failed: \(problem)")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func startPeers() throws {
        let authority = "\(work)/authority"
        try starling(["authority", "init", "--dir", authority])
        print("authority created; admitting \(Self.names.joined(separator: ", "))")
        var base = 20_000 + Int.random(in: 0..<20_000)
        // Two attempts at free ports: another program may hold the first pick.
        for attempt in 0..<2 {
            for name in Self.names {
                let directory = self.directory(name)
                let node = try starling(["keys", "generate", "--out", "\(directory)/identity.key"])
                let roles = name == "cloud" ? "peer,coordinator,submit,admin" : "peer,coordinator"
                try starling(["authority", "admit", "--dir", authority, node, "--name", name, "--roles", roles,
                              "--out", "\(directory)/certificate"])
                try FileManager.default.copyItem(atPath: "\(authority)/authority.pub", toPath: "\(directory)/authority.pub")
            }
            for (index, name) in Self.names.enumerated() {
                let tags = name == "cloud" ? "role=cloud,capacity=10" : "role=edge"
                try startPeer(name, arguments: ["peer", "--data-dir", directory(name), "--listen", "127.0.0.1:\(base + index)",
                                                "--bootstrap", "127.0.0.1:\(base)", "--tags", tags, "--log-level", "notice"])
            }
            if waitForMembers() { break }
            guard attempt == 0 else { throw CLIError("the peers did not all join within 20 s; see \(work)/*.log") }
            print("the peers did not join; trying other ports")
            stopAll(removing: false)
            stopped = false
            for name in Self.names { try? FileManager.default.removeItem(atPath: directory(name)) }
            base = 20_000 + Int.random(in: 0..<20_000)
        }
        print("5 peers running on 127.0.0.1:\(base)-\(base + 4); cloud is tagged capacity=10 (it usually wins elections)")
    }

    private func startPeer(_ name: String, arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        FileManager.default.createFile(atPath: "\(work)/\(name).log", contents: nil)
        process.standardError = FileHandle(forWritingAtPath: "\(work)/\(name).log")
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        lock.lock()
        processes[name] = process
        lock.unlock()
    }

    private func waitForMembers() -> Bool {
        for _ in 0..<200 {
            let views = Self.names.compactMap { name -> Int? in
                guard let line = try? LocalClient.request("members", dataDirectory: directory(name)),
                      let response = try? JSONDecoder().decode(LocalAPIProtocol.MembersResponse.self, from: Data(line))
                else { return nil }
                return response.members.filter { $0.state == "alive" }.count
            }
            if views.count == Self.names.count && views.allSatisfy({ $0 == Self.names.count }) { return true }
            usleep(100_000)
        }
        return false
    }

    func isRunning(_ name: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return processes[name]?.isRunning == true
    }

    /// One local API request to a peer, as a dictionary.
    func request(_ name: String, _ object: [String: Any], timeout: Duration = .seconds(30)) throws -> [String: Any] {
        var line = [UInt8](try JSONSerialization.data(withJSONObject: object))
        line.append(UInt8(ascii: "\n"))
        let answer = try LocalClient.request(line: line, dataDirectory: directory(name), timeout: timeout)
        guard let decoded = (try? JSONSerialization.jsonObject(with: Data(answer))) as? [String: Any] else {
            throw CLIError("unexpected answer from \(name)")
        }
        if let error = decoded["error"] as? String { throw CLIError("\(name): \(error)") }
        return decoded
    }

    func submit(_ specPath: String) throws {
        print(try starling(["task", "submit", specPath, "--peer", directory("cloud")]))
    }

    /// The demo task as a live peer sees it.
    func task(from name: String) -> LocalAPIProtocol.Task? {
        guard let line = try? LocalClient.request("tasks", dataDirectory: directory(name)),
              let response = try? JSONDecoder().decode(LocalAPIProtocol.TasksResponse.self, from: Data(line)) else { return nil }
        return response.tasks.first { $0.name == "demo-task" }
    }

    /// A live peer to ask.
    var anyLive: String? { Self.names.first(where: isRunning) }

    /// A live peer holding the model named by `hash`: the task's coordinator or one of its successors.
    func holderOfModel(_ hash: String) throws -> String {
        for name in Self.names where isRunning(name) {
            if let answer = try? request(name, ["command": "model-list"]),
               let models = answer["models"] as? [[String: Any]],
               models.contains(where: { $0["hash"] as? String == hash && $0["held"] as? Bool == true }) {
                return name
            }
        }
        throw CLIError("no live peer holds the final model \(hash.prefix(12))")
    }

    func kill9(_ name: String) {
        lock.lock()
        let process = processes[name]
        lock.unlock()
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM to every peer (a graceful leave, which stops its workers), SIGKILL after 5 s, then
    /// the workspace goes unless `keep`.
    func stopAll(removing: Bool = true) {
        lock.lock()
        let running = processes.values.filter(\.isRunning)
        let first = !stopped
        stopped = true
        lock.unlock()
        guard first else { return }
        for process in running { kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(5)
        while running.contains(where: \.isRunning) && Date() < deadline { usleep(50_000) }
        for process in running where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in running { process.waitUntilExit() }
        if removing && !keep { try? FileManager.default.removeItem(atPath: work) }
    }
}

/// Stops the demo's peers when the demo is interrupted.
final class DemoSignals: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    static func install(_ onSignal: @escaping @Sendable () -> Void) -> DemoSignals {
        let signals = DemoSignals()
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                onSignal()
                exit(130)
            }
            source.resume()
            signals.sources.append(source)
        }
        return signals
    }

    func cancel() { sources.forEach { $0.cancel() } }
}
