import Foundation
import ArgumentParser
import Logging
import StarlingCrypto
import StarlingHTTP
import StarlingMembership
import StarlingPeer
import StarlingRuntime
import StarlingTasks
import StarlingStore
import StarlingTrust

struct PeerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer",
        abstract: "Run this node's peer: join the cluster and serve the local API until SIGINT/SIGTERM.",
        discussion: """
            DIR must hold identity.key (`starling keys generate --out DIR/identity.key`), certificate \
            (`starling authority admit ... --out DIR/certificate`) and authority.pub (copied from the \
            authority's directory). The peer keeps its store in DIR/starling.db and answers \
            `starling members` on DIR/starling.sock. UDP (gossip) and TCP (anti-entropy) share \
            --listen. SIGINT or SIGTERM leaves the cluster gracefully (at most \
            \(RuntimeLimits.leaveGracePeriod)); a second one stops at once.
            """)

    @Option(name: .customLong("data-dir"), help: "The node's data directory.")
    var dataDir: String

    @Option(name: .long, help: "HOST:PORT to bind UDP and TCP to ([IPv6]:PORT for IPv6; names are resolved once).")
    var listen: String

    @Option(name: .long, help: "HOST:PORT other peers reach this one at (default: --listen; required when it is 0.0.0.0 or ::).")
    var advertise: String?

    @Option(name: .long, help: "Comma-separated HOST:PORT of peers to join through.")
    var bootstrap: String?

    @Option(name: .long, help: "Comma-separated KEY=VALUE tags announced with this node (placement, capacity).")
    var tags: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(name: .long, help: ArgumentHelp(
        "The Python that runs .py workers (default: $STARLING_PYTHON, else python3 from PATH).",
        discussion: "It needs the Starling Lib: pip install ./python (from the repository) with it.",
        valueName: "path"))
    var python: String?

    @Option(name: .long, help: ArgumentHelp(
        "HOST:PORT for the HTTP endpoint that serves this peer's JointInferenceServices (Open Inference Protocol v2, as KServe and Triton speak it).",
        valueName: "host:port"))
    var http: String?

    /// DIR/keyring, when present, turns on gossip encryption (`starling keyring install ... --file DIR/keyring`).
    static func loadKeyring(_ directory: String) throws -> Keyring? {
        let path = "\(directory)/keyring"
        guard TrustFiles.exists(path) else { return nil }
        return try userFacing { try TrustFiles.read(path, expecting: .keyring) }.keyring
    }

    func run() throws {
        let level = try Self.parseLogLevel(logLevel)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        // Absolute from here on: workers run in their trainScriptDir, and every path they are given
        // (socket, work directory, models) must still name the same file there.
        let dataDir = Self.absolutePath(self.dataDir)
        let python = try Self.workerPython(python)
        let files = try NodeFiles.load(dataDirectory: dataDir)
        let store = try userFacing { try Store(directory: dataDir) }
        let now = currentUnixTime()
        try userFacing {
            try store.bindIdentity(files.node, now: now)
            try store.bindAuthority(files.authority)
        }
        try files.importRevocations(into: store)
        let revocations = try userFacing { try store.revocations() }
        try files.checkCertificate(now: now, revocations: revocations)
        try userFacing { try store.saveCertificate(files.certificate) }

        let loop = try userFacing { try EventLoop() }
        defer { loop.close() }
        let addresses = try resolveAddresses(on: loop)
        let settings = MembershipSettings()
        var undecodable = 0
        let tasks = try userFacing { try store.storedTasks(undecodable: &undecodable) }
        var setup = PeerSetup(
            identity: files.identity, certificate: files.certificate, authority: files.authority,
            revocations: revocations, advertise: addresses.advertise, bootstrap: addresses.bootstrap,
            tags: try Self.parseTags(tags, settings: settings).merging(try Self.storeTags(store)) { given, _ in given },
            persisted: try userFacing { try store.persistedState() }, settings: settings,
            unixTimeAtStart: now, keyring: try Self.loadKeyring(dataDir))
        setup.tasks = tasks

        var logger = Logger(label: "starling.peer")
        logger.logLevel = level
        if undecodable > 0 { logger.warning("\(undecodable) stored task(s) do not decode with this build; left in the store") }
        logger.info("node \(files.certificate.name) (\(files.node.short)) advertising \(addresses.advertise)")
        if let path = python.path {
            logger.info(".py workers run with \(path)")
        } else {
            logger.warning("\(python.choice.command) is not in PATH: .py workers cannot start on this peer; give --python PATH")
        }
        var configuration = RuntimeConfiguration(listen: addresses.listen, localAPIDirectory: dataDir, handlesSignals: true)
        configuration.workerLauncher = Self.executablePath()
        configuration.workerPython = python.path ?? python.choice.command
        configuration.blobs = BlobSettings(directory: "\(dataDir)/blobs", identity: files.identity)
        let runtime = PeerRuntime(machine: Peer(setup: setup), loop: loop, configuration: configuration, store: store,
                                  logger: logger)
        // Blobs go to live members only (a revoked or departed node is refused).
        runtime.isAuthorizedForBlobs = { [unowned runtime] node in
            var alive = false
            runtime.machine.forEachMemberState { member, state in
                if member == node && (state == .alive || state == .suspect) { alive = true }
            }
            return alive
        }
        // A malformed --http is refused before anything starts.
        let httpAddress = try http.map(Self.httpAddress)
        try userFacing { try runtime.start() }
        var httpServer: InferenceHTTPServer?
        if let http, let (host, port) = httpAddress, let gateway = runtime.inferenceGateway {
            do {
                httpServer = try InferenceHTTPServer(host: host, port: port, backend: PeerInferenceBackend(gateway: gateway))
            } catch {
                runtime.stop()
                throw CLIError("--http \(http): cannot listen: \(error)")
            }
            logger.info("HTTP inference endpoint on \(host):\(httpServer!.port) (Open Inference Protocol v2)")
        }
        loop.run()
        httpServer?.shutdown()
        let reason = runtime.stopReason ?? .stopped
        if reason == .forced { throw ExitCode(130) }
    }

    /// `--http HOST:PORT` (`[IPv6]:PORT` for IPv6).
    static func httpAddress(_ text: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
            throw CLIError("--http \(text): expected HOST:PORT, such as 127.0.0.1:8000")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw CLIError("--http \(text): the host is missing (127.0.0.1, 0.0.0.0 or [::])") }
        return (host, port)
    }

    /// The Python for `.py` workers and its absolute path. One named by `--python` or
    /// `$STARLING_PYTHON` must be an executable file; `python3` may be missing from PATH (a peer
    /// that runs no Python worker needs none: a warning is logged).
    static func workerPython(_ flag: String?) throws -> (choice: WorkerPython, path: String?) {
        let choice = WorkerPython.choose(flag: flag)
        let path = choice.locate()
        guard path != nil || choice.source == .fallback else {
            let given = choice.source == .flag ? "--python \(choice.command)" : "\(WorkerPython.variable)=\(choice.command)"
            let lookedUp = choice.command.contains("/") ? "is not an executable file" : "is not an executable in PATH"
            throw CLIError("\(given): \(choice.command) \(lookedUp); name the Python that runs .py workers "
                + "(one with the Starling Lib: pip install ./python)")
        }
        return (choice, path)
    }

    /// `path` made absolute against the current directory (`node1` → `/home/me/node1`), with `.`
    /// and `..` components removed (symbolic links are kept as named).
    static func absolutePath(_ path: String) -> String {
        URL(fileURLWithPath: path).standardized.path
    }

    /// The datasets registered and the models imported in the store, as the tags that declare
    /// them (DatasetTags, ModelTags).
    static func storeTags(_ store: Store) throws -> [String: String] {
        DatasetTags.tags(declaring: try userFacing { try store.datasets() })
            .merging(ModelTags.tags(declaring: try userFacing { try store.importedModels() })) { dataset, _ in dataset }
    }

    /// This executable's absolute path (workers are started through it).
    static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments.first }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private struct Addresses {
        var listen: PeerAddress
        var advertise: PeerAddress
        var bootstrap: [PeerAddress]
    }

    private func resolveAddresses(on loop: EventLoop) throws -> Addresses {
        func resolve(_ text: String, _ flag: String) throws -> PeerAddress {
            let parsed: PeerAddress
            do {
                parsed = try PeerAddress(parsing: text)
            } catch {
                throw CLIError("--\(flag): \(error)")
            }
            do {
                return try AddressResolver.resolve(parsed, on: loop)
            } catch {
                throw CLIError("--\(flag): \(error)")
            }
        }
        let listen = try resolve(self.listen, "listen")
        let advertise = try advertise.map { try resolve($0, "advertise") } ?? listen
        guard !AddressResolver.isUnspecified(advertise) else {
            throw CLIError("--listen \(self.listen) is not an address other peers can reach; "
                + "also give --advertise HOST:PORT (this node's reachable address)")
        }
        let bootstrap = try (bootstrap ?? "").split(separator: ",").map {
            try resolve($0.trimmingCharacters(in: .whitespaces), "bootstrap")
        }.filter { $0 != advertise }
        return Addresses(listen: listen, advertise: advertise, bootstrap: bootstrap)
    }

    static func parseLogLevel(_ text: String) throws -> Logger.Level {
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            throw CLIError("--log-level: '\(text)' is not one of "
                + Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return level
    }

    static func parseTags(_ text: String?, settings: MembershipSettings) throws -> [String: String] {
        var tags: [String: String] = [:]
        for pair in (text ?? "").split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            guard parts.count == 2, !key.isEmpty else {
                throw CLIError("--tags: '\(pair)' is not KEY=VALUE")
            }
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            guard key.utf8.count <= settings.tagBytesMax, value.utf8.count <= settings.tagBytesMax else {
                throw CLIError("--tags: '\(pair)': keys and values are at most \(settings.tagBytesMax) bytes")
            }
            guard tags.updateValue(value, forKey: key) == nil else { throw CLIError("--tags: '\(key)' is given twice") }
        }
        guard tags.count <= settings.tagsMax else {
            throw CLIError("--tags: \(tags.count) tags, at most \(settings.tagsMax) are allowed")
        }
        return tags
    }
}

/// The three files a peer's data directory must hold, read and cross-checked with errors that say
/// which command makes the missing piece.
struct NodeFiles {
    let identity: SigningKey
    let certificate: Certificate
    let authority: PublicKey
    let directory: String

    var node: NodeID { NodeID(identity.publicKey) }

    static func identityPath(_ directory: String) -> String { "\(directory)/identity.key" }
    static func certificatePath(_ directory: String) -> String { "\(directory)/certificate" }
    static func authorityPath(_ directory: String) -> String { "\(directory)/authority.pub" }

    static func load(dataDirectory directory: String) throws -> NodeFiles {
        let identityPath = identityPath(directory)
        guard TrustFiles.exists(identityPath) else {
            throw CLIError("\(identityPath): no such file; create this node's identity with "
                + "`starling keys generate --out \(identityPath)`")
        }
        let identity = try userFacing { try TrustFiles.read(identityPath, expecting: .identity) }.signingKey!
        let node = NodeID(identity.publicKey)

        let authorityPath = authorityPath(directory)
        guard TrustFiles.exists(authorityPath) else {
            throw CLIError("\(authorityPath): no such file; copy authority.pub from the authority's directory "
                + "(made by `starling authority init --dir AUTHORITY_DIR`)")
        }
        let authority = try userFacing { try TrustFiles.read(authorityPath, expecting: .authorityPublic) }.publicKey!

        let certificatePath = certificatePath(directory)
        guard TrustFiles.exists(certificatePath) else {
            throw CLIError("\(certificatePath): no such file; have the authority admit this node with "
                + "`starling authority admit --dir AUTHORITY_DIR \(node) --name NAME --roles peer --out \(certificatePath)`")
        }
        let certificate = try userFacing { try TrustFiles.read(certificatePath, expecting: .certificate) }.certificate!
        return NodeFiles(identity: identity, certificate: certificate, authority: authority, directory: directory)
    }

    /// The certificate must name this identity, come from this authority, be inside its window, not
    /// be revoked, and carry the `peer` role (other peers refuse the node otherwise).
    /// Revocation files dropped into DIR/revocations/ (from `starling authority revoke`) are checked
    /// against the authority and kept in the store; the peer then gossips them to the cluster.
    func importRevocations(into store: Store) throws {
        let folder = "\(directory)/revocations"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = "\(folder)/\(name)"
            let revocation = try userFacing { try TrustFiles.read(path, expecting: .revocation) }.revocation!
            do {
                try revocation.verify(authority: authority)
            } catch {
                throw CLIError("\(path): invalid revocation: \(error)")
            }
            try userFacing { try store.saveRevocation(revocation) }
        }
    }

    func checkCertificate(now: UInt64, revocations: [Revocation]) throws {
        let path = Self.certificatePath(directory)
        guard certificate.node == node else {
            throw CLIError("\(path): is for node \(certificate.node), but \(Self.identityPath(directory)) is node \(node); "
                + "admit this identity with `starling authority admit --dir AUTHORITY_DIR \(node) --name NAME --roles peer --out \(path)`")
        }
        var list = RevocationList()
        for revocation in revocations { try? list.insert(revocation, authority: authority) }
        do {
            try certificate.verify(authority: authority, now: now, revocations: list, requiring: [.peer])
        } catch {
            throw CLIError("\(path): invalid certificate: \(error)")
        }
    }
}
