import Foundation
import StarlingLocalAPI
import StarlingRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One peer of a local cluster: the name and roles its certificate carries, and its `--tags`.
struct LocalPeer: Equatable {
    let name: String
    /// As `authority admit --roles` takes them: `peer,coordinator,submit`.
    let roles: String
    /// As `starling peer --tags` takes them: `key=value,...` (empty: none).
    let tags: String
    /// Whether it serves the Open Inference Protocol (`starling peer --http`) on a port of the cluster's block.
    var http = false
}

/// A throwaway cluster of real `starling peer` processes on loopback, as `starling demo` and
/// `starling task run-local` start it: a throwaway authority, one identity and certificate per
/// peer, the peers themselves, and the local API to each. Every process it starts is stopped by
/// `stopAll` (also from a signal handler, see `ClusterSignals`), which then removes the workspace
/// unless it is kept.
///
/// The workspace holds `authority/`, each peer's data directory `peers/NAME/` and its log
/// `logs/NAME.log` (the peer's standard error; its workers' logs are in its data directory).
final class LocalCluster: @unchecked Sendable {
    /// How long the peers have to see each other alive, per attempt.
    static let joinSeconds = 20.0
    /// Attempts at a block of free ports: another program may hold the first pick.
    static let portAttempts = 3
    /// Where the block of ports starts: below Linux's ephemeral ports (32768 and up), which
    /// outgoing connections take.
    static let portBases = 20_000..<32_000

    let peers: [LocalPeer]
    let work: String
    let keep: Bool
    let executable: String
    /// Added to every `starling peer` command (`--python PATH` for their Python workers).
    private let peerArguments: [String]
    /// The peers' working directory (nil: this process's), where relative `trainScriptDir`s resolve.
    private let workingDirectory: String?
    private let lock = NSLock()
    /// Held for the whole of `stopAll`, so a second caller (a signal during the first) returns
    /// only once every process is gone.
    private let stopping = NSLock()
    private var processes: [String: Process] = [:]
    /// Each peer's `starling peer` arguments, for a restart.
    private var arguments: [String: [String]] = [:]
    /// The first port of the block the peers listen on, set by `startPeers`.
    private var base = 0
    private var killed: Set<String> = []
    private var stopped = false

    /// A cluster of `peers` (the first is the others' bootstrap) in a new temporary workspace
    /// named after `prefix` (kept at the end when `keep`), or in `directory` (created if missing,
    /// refused unless empty, always kept).
    init(peers: [LocalPeer], prefix: String, keep: Bool, directory: String? = nil, peerArguments: [String] = [],
         workingDirectory: String? = nil) throws {
        self.peers = peers
        self.peerArguments = peerArguments
        self.workingDirectory = workingDirectory
        executable = PeerCommand.executablePath() ?? CommandLine.arguments[0]
        if let directory {
            work = URL(fileURLWithPath: CLIPath.absolute(directory))
                .standardizedFileURL.path
            self.keep = true
        } else {
            let temporary = NSTemporaryDirectory().hasSuffix("/") ? String(NSTemporaryDirectory().dropLast()) : NSTemporaryDirectory()
            var template = Array("\(temporary)/\(prefix).XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw CLIError("cannot create a workspace in \(temporary)") }
            work = String(cString: made)
            self.keep = keep
        }
        // A peer serves its local API on DATA-DIR/starling.sock, and a Unix socket's path is short.
        for peer in peers where socketPath(peer.name).utf8.count > LocalAPILimits.unixSocketPathBytesMax {
            if directory == nil { try? FileManager.default.removeItem(atPath: work) }
            throw CLIError("the peer \(peer.name)'s socket would be \(socketPath(peer.name)), longer than a Unix socket path "
                + "may be (\(LocalAPILimits.unixSocketPathBytesMax) bytes): use a shorter directory or peer name")
        }
        if let directory { try Self.prepareEmpty(work, as: directory) }
    }

    /// `absolute` (given as `path`) ready to hold a workspace: created, or existing and empty.
    private static func prepareEmpty(_ absolute: String, as path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CLIError("\(path) exists and is not a directory") }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: absolute)) ?? []
            guard entries.isEmpty else { throw CLIError("\(path) is not empty: give a new or empty directory to keep the cluster in") }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: absolute, withIntermediateDirectories: true)
            } catch {
                throw CLIError("cannot create \(path): \(error.localizedDescription)")
            }
        }
    }

    var names: [String] { peers.map(\.name) }
    func directory(_ name: String) -> String { "\(work)/peers/\(name)" }
    func logPath(_ name: String) -> String { "\(work)/logs/\(name).log" }
    private func socketPath(_ name: String) -> String { "\(directory(name))/starling.sock" }

    /// The port of a peer's HTTP endpoint (started with `http`): after the block of gossip ports,
    /// so a port taken by another program fails the start and the next attempt moves it too.
    func httpPort(_ name: String) -> Int {
        let serving = peers.filter(\.http).map(\.name)
        guard let index = serving.firstIndex(of: name) else { preconditionFailure("the peer \(name) serves no HTTP") }
        lock.lock()
        defer { lock.unlock() }
        return base + peers.count + index
    }

    /// How many ports of the block the peers take: one each, and one per HTTP endpoint.
    private var portCount: Int { peers.count + peers.filter(\.http).count }

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

    /// Creates the authority and the peers' identities, starts every peer and waits until each sees
    /// all the others alive; the first port of the block they listen on.
    @discardableResult
    func startPeers() throws -> Int {
        let authority = "\(work)/authority"
        try starling(["authority", "init", "--dir", authority])
        printNow("authority created; admitting \(names.joined(separator: ", "))")
        try FileManager.default.createDirectory(atPath: "\(work)/logs", withIntermediateDirectories: true)
        var base = Int.random(in: Self.portBases.lowerBound..<(Self.portBases.upperBound - portCount))
        for attempt in 0..<Self.portAttempts {
            for peer in peers {
                let directory = self.directory(peer.name)
                let node = try starling(["keys", "generate", "--out", "\(directory)/identity.key"])
                try starling(["authority", "admit", "--dir", authority, node, "--name", peer.name, "--roles", peer.roles,
                              "--out", "\(directory)/certificate"])
                try FileManager.default.copyItem(atPath: "\(authority)/authority.pub", toPath: "\(directory)/authority.pub")
            }
            lock.lock()
            self.base = base
            lock.unlock()
            for (index, peer) in peers.enumerated() {
                var arguments = ["peer", "--data-dir", directory(peer.name), "--listen", "127.0.0.1:\(base + index)",
                                 "--bootstrap", "127.0.0.1:\(base)", "--log-level", "notice"]
                if !peer.tags.isEmpty { arguments += ["--tags", peer.tags] }
                if peer.http { arguments += ["--http", "127.0.0.1:\(httpPort(peer.name))"] }
                try startPeer(peer.name, arguments: arguments + peerArguments)
            }
            guard let problem = waitForMembers() else { return base }
            guard attempt + 1 < Self.portAttempts else {
                throw CLIError("\(problem); the peers' logs are in \(work)/logs" + (keep ? "" : " (keep them with --keep)"))
            }
            printNow("the peers did not join (\(problem)); trying other ports")
            terminateAll()
            for name in names { try? FileManager.default.removeItem(atPath: directory(name)) }
            base = Int.random(in: Self.portBases.lowerBound..<(Self.portBases.upperBound - portCount))
        }
        return base
    }

    /// Starts the peer `name` again, as it was started, on its data directory and port (after
    /// `kill9`: the same identity rejoins), and waits until every peer sees all the others alive.
    func restart(_ name: String) throws {
        lock.lock()
        let arguments = self.arguments[name]
        killed.remove(name)
        lock.unlock()
        guard let arguments else { preconditionFailure("the peer \(name) was never started") }
        try startPeer(name, arguments: arguments, appendingLog: true)
        if let problem = waitForMembers() {
            throw CLIError("\(name) did not rejoin: \(problem); the peers' logs are in \(work)/logs" + (keep ? "" : " (keep them with --keep)"))
        }
    }

    /// Peers killed by `kill9` and not restarted.
    var killedPeers: [String] {
        lock.lock()
        defer { lock.unlock() }
        return names.filter(killed.contains)
    }

    private func startPeer(_ name: String, arguments: [String], appendingLog: Bool = false) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        if !appendingLog || !FileManager.default.fileExists(atPath: logPath(name)) {
            guard FileManager.default.createFile(atPath: logPath(name), contents: nil) else {
                throw CLIError("cannot create the log file \(logPath(name))")
            }
        }
        let log = FileHandle(forWritingAtPath: logPath(name))
        _ = try? log?.seekToEnd()
        process.standardError = log
        process.standardOutput = FileHandle.nullDevice
        // Started and recorded under the lock, so a `stopAll` running now either sees it or has
        // already stopped everything (then nothing more starts).
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { throw CLIError("stopped while starting the peers") }
        try process.run()
        processes[name] = process
        self.arguments[name] = arguments
    }

    /// Nil once every peer sees all the others alive; else what went wrong: a peer exited (a port
    /// taken, a bad argument or environment: the end of its log says which), or time ran out.
    private func waitForMembers() -> String? {
        let deadline = Date().addingTimeInterval(Self.joinSeconds)
        while Date() < deadline {
            if let (name, how) = unexpectedExits().first {
                return "the peer \(name) \(how) at start: \(logTail(name, lines: 3))"
            }
            let views = names.compactMap { name -> Int? in
                guard let response = try? client(name).send(.members, as: MembersResponse.self) else { return nil }
                return response.members.filter { $0.state == "alive" }.count
            }
            if views.count == peers.count && views.allSatisfy({ $0 == peers.count }) { return nil }
            usleep(100_000)
        }
        return "the peers did not all join within \(Int(Self.joinSeconds)) s"
    }

    func isRunning(_ name: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return processes[name]?.isRunning == true
    }

    /// Peers that exited although nobody stopped or killed them: name and how they ended.
    func unexpectedExits() -> [(name: String, how: String)] {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return [] }
        return processes.filter { !$0.value.isRunning && !killed.contains($0.key) }.sorted { $0.key < $1.key }.map { name, process in
            let how = process.terminationReason == .uncaughtSignal ? "was killed by signal \(process.terminationStatus)"
                : "exited with status \(process.terminationStatus)"
            return (name, how)
        }
    }

    /// The last `count` lines of a peer's log.
    func logTail(_ name: String, lines count: Int) -> String {
        let text = String(decoding: FileManager.default.contents(atPath: logPath(name)) ?? Data(), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(count + 1).joined(separator: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The local API of a peer.
    func client(_ name: String) -> LocalClient { LocalClient(dataDirectory: directory(name)) }

    /// One local API request to a peer; a refusal names the peer.
    func request<Answer: Decodable>(_ name: String, _ request: LocalRequest, as answer: Answer.Type,
                                    timeout: Duration = .seconds(30)) throws -> Answer {
        do {
            return try client(name).send(request, as: answer, timeout: timeout)
        } catch let refusal as ErrorResponse {
            throw CLIError("\(name): \(refusal.error)")
        }
    }

    /// Registers `path` as dataset `name` on peer `holder`; the dataset's record as the peer answers it.
    @discardableResult
    func addDataset(_ name: String, path: String, on holder: String) throws -> Dataset {
        let answer = try request(holder, .datasetAdd(name: name, path: path, format: nil), as: DatasetAddResponse.self)
        guard answer.ok, let dataset = answer.dataset else { throw CLIError("dataset add: \(answer.message)") }
        return dataset
    }

    /// Waits (bounded) until `observer` sees `count` datasets declared: placement reads them.
    func waitForDatasets(_ count: Int, seenBy observer: String) {
        for _ in 0..<100 {
            let declared = (try? request(observer, .datasetList, as: DatasetListResponse.self))?.declared ?? []
            if declared.count >= count { return }
            usleep(100_000)
        }
    }

    /// `starling task submit SPEC --peer` through `peer` (its certificate needs `submit`); what it printed.
    func submit(_ specPath: String, through peer: String) throws -> String {
        try starling(["task", "submit", specPath, "--peer", directory(peer)])
    }

    /// The task named `name` as a live peer sees it.
    func task(_ name: String, from peer: String) -> TaskReport? {
        guard let response = try? client(peer).send(.tasks, as: TasksResponse.self) else { return nil }
        return response.tasks.first { $0.name == name }
    }

    /// A live peer to ask.
    var anyLive: String? { names.first(where: isRunning) }

    /// A live peer holding the model named by `hash`: the task's coordinator or one of its successors.
    func holderOfModel(_ hash: String) throws -> String {
        for name in names where isRunning(name) {
            if let answer = try? request(name, .modelList, as: ModelListResponse.self),
               answer.models.contains(where: { $0.hash == hash && $0.held }) {
                return name
            }
        }
        throw CLIError("no live peer holds the final model \(hash.prefix(12))")
    }

    /// Exports the model named by `hash` from a peer that holds it to `path` (absolute); that peer.
    func exportModel(_ hash: String, to path: String) throws -> String {
        let exporter = try holderOfModel(hash)
        let answer = try request(exporter, .modelExport(model: hash, out: path), as: ModelExportResponse.self)
        guard answer.ok else { throw CLIError("model export: \(answer.message)") }
        return exporter
    }

    func kill9(_ name: String) {
        lock.lock()
        let process = processes[name]
        killed.insert(name)
        lock.unlock()
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM to every peer (a graceful leave, which stops its workers), SIGKILL after 5 s, then
    /// the workspace goes unless it is kept. Once only; safe from any thread.
    func stopAll() {
        stopping.lock()
        defer { stopping.unlock() }
        lock.lock()
        let first = !stopped
        stopped = true
        lock.unlock()
        guard first else { return }
        terminateAll()
        if !keep { try? FileManager.default.removeItem(atPath: work) }
    }

    private func terminateAll() {
        lock.lock()
        let running = Array(processes.values.filter(\.isRunning))
        processes = [:]
        lock.unlock()
        for process in running { kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(5)
        while running.contains(where: \.isRunning) && Date() < deadline { usleep(50_000) }
        for process in running where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in running { process.waitUntilExit() }
    }
}

/// Stops a local cluster when the command is interrupted (SIGINT, SIGTERM): `onSignal` runs, then
/// the process exits with status 130.
final class ClusterSignals: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    static func install(_ onSignal: @escaping @Sendable () -> Void) -> ClusterSignals {
        let signals = ClusterSignals()
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

/// `print`, then every output stream flushed: progress shows at once, also through a pipe.
func printNow(_ text: String) {
    print(text)
    fflush(nil)
}
