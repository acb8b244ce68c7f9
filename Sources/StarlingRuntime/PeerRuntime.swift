import Logging
import StarlingCrypto
import StarlingLocalAPI
import StarlingMembership
import StarlingPeer
import StarlingStore
import StarlingTrust
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs one peer machine on a libuv loop: the real-world driver of `PeerMachine`.
///
/// Inputs go to the machine one at a time, each with `now` from `uv_hrtime` and randomness from
/// `SecureRandom`; its outputs are performed in order. An input raised while outputs are being
/// performed (a request refused at once, say) is queued and delivered after them, so the machine is
/// never re-entered. Everything happens on the loop's thread.
///
/// Lifecycle: `start()` binds the sockets and delivers `.start`; `leave()` (or SIGINT/SIGTERM)
/// delivers `.leave` and stops when the machine emits `.left` or the grace period passes; a second
/// signal stops at once; `stop()` stops at once. Stopping closes every handle of this runtime, so a
/// loop that runs nothing else returns from `run()`. Releasing the last reference to a runtime
/// stops it too: keep one for as long as it should run.
public final class PeerRuntime<Machine: PeerMachine> {
    public enum StopReason: Equatable, Sendable {
        /// The machine finished its graceful leave.
        case left
        /// The machine did not emit `.left` within the grace period.
        case gracePeriodExpired
        /// A second signal arrived during the leave.
        case forced
        /// `stop()` was called.
        case stopped
    }

    public private(set) var machine: Machine
    public let loop: EventLoop
    public let configuration: RuntimeConfiguration
    /// The runtime's own counters (the local API reports them prefixed with `runtime.`).
    public let counters = RuntimeCounters()
    /// Where UDP and TCP are bound (the actual port when the configuration asked for 0).
    public private(set) var boundAddress: PeerAddress?
    public private(set) var stopReason: StopReason?

    private let store: Store?
    private var logger: Logger
    private var random = SecureRandom()
    private let writeBudget = ByteBudget(limit: RuntimeLimits.writeQueuedBytesMax)
    private let readBudget = ByteBudget(limit: RuntimeLimits.readBufferedBytesMax)

    private var udp: UDPSocket?
    private var streams: StreamExchanges?
    private var timers: MachineTimers?
    private var localAPI: LocalAPIServer?
    private var signals: SignalWatcher?
    private var graceTimer: LoopTimer?
    /// Workers, models and aggregation (`TaskWork`); present when the runtime has a data directory
    /// and blobs.
    private var taskRunner: TaskRunner?
    private var runnerCommands: TaskRunnerCommands?
    /// Blobs (docs/runtime.md, "Blobs"), when the configuration has `blobs` settings.
    public private(set) var blobs: BlobService?
    /// Where other threads (the HTTP endpoint) reach the services this peer serves; present when
    /// the runtime has a task runner, from `start()` until it stops.
    public private(set) var inferenceGateway: InferenceGateway?
    /// Who may fetch blobs from this peer (wired to membership); nobody until set.
    public var isAuthorizedForBlobs: (NodeID) -> Bool = { _ in false }

    private var pendingInputs: [PeerInput] = []
    private var isDelivering = false
    private var isLeaving = false
    private var hasStarted = false

    public init(machine: Machine, loop: EventLoop, configuration: RuntimeConfiguration, store: Store? = nil,
                logger: Logger = Logger(label: "starling.peer")) {
        self.machine = machine
        self.loop = loop
        self.configuration = configuration
        self.store = store
        self.logger = logger
    }

    deinit { stop() }

    /// Counters of the machine and of the runtime (`runtime.` prefix), as the local API reports them.
    public var allCounters: [String: UInt64] {
        var merged = machine.counters
        for (name, value) in counters.values { merged["runtime.\(name)"] = value }
        return merged
    }

    public var isRunning: Bool { hasStarted && stopReason == nil }

    /// Opens the local API, binds UDP and TCP, installs signal handlers, then delivers `.start`.
    /// On failure everything opened so far is closed again.
    public func start() throws {
        precondition(!hasStarted, "a runtime starts once")
        hasStarted = true
        SignalWatcher.ignoreBrokenPipes()
        MallocTuning.apply()
        do {
            // The local API first: "another peer is running here" explains a busy port better.
            if let directory = configuration.localAPIDirectory {
                localAPI = try LocalAPIServer(
                    loop: loop, dataDirectory: directory, counters: counters, writeBudget: writeBudget
                ) { [unowned self] line in
                    LocalAPIResponder.respond(
                        to: line, members: { self.machine.members }, counters: { self.allCounters },
                        tasks: { self.machine.tasks.map { self.runnerCommands?.report($0) ?? TaskReport($0) } },
                        control: { self.control($0) }, extensions: { self.runnerCommands?.respond($0) })
                }
            }
            try bindNetwork()
            try startBlobs()
            try startTaskRunner()
            let timers = try MachineTimers(loop: loop)
            timers.onFire = { [unowned self] id in
                self.counters.increment("timers.fired")
                self.deliver(.timerFired(id))
            }
            self.timers = timers
            if configuration.handlesSignals {
                signals = try SignalWatcher(loop: loop, signals: [SIGINT, SIGTERM]) { [unowned self] number in
                    self.signalReceived(number)
                }
            }
        } catch {
            stop()
            throw error
        }
        let api = localAPI.map { ", local API at \($0.path)" } ?? ""
        logger.info("listening on \(boundAddress!) (UDP and TCP)\(api)")
        deliver(.start)
    }

    /// `start()`, then runs the loop until it has nothing left to do (this runtime stopped and nothing
    /// else runs on the loop).
    @discardableResult
    public func run() throws -> StopReason {
        try start()
        loop.run()
        return stopReason ?? .stopped
    }

    /// Asks the machine to leave gracefully; stops when it emits `.left` or after the grace period.
    public func leave() {
        guard isRunning, !isLeaving else { return }
        isLeaving = true
        if let timer = try? LoopTimer(loop: loop) {
            graceTimer = timer
            timer.start(after: configuration.leaveGracePeriod) { [unowned self] in
                self.logger.warning("the leave did not finish within \(self.configuration.leaveGracePeriod); stopping anyway")
                self.stop(.gracePeriodExpired)
            }
        }
        deliver(.leave)
    }

    /// Stops at once: closes every socket, timer and signal handler of this runtime. Further inputs
    /// are dropped; pending requests get no response.
    public func stop(_ reason: StopReason = .stopped) {
        guard stopReason == nil else { return }
        stopReason = reason
        inferenceGateway?.close()
        taskRunner?.shutdown()
        localAPI?.close()
        blobs?.close()
        streams?.close()
        udp?.close()
        timers?.close()
        signals?.close()
        graceTimer?.close()
        if hasStarted, boundAddress != nil { logger.info("stopped (\(reason))") }
    }

    // MARK: Inputs

    /// Queues an input for the machine and, unless already inside a delivery, delivers the queue.
    /// Hands an operator's request to the machine and performs what it asks for. Local API callbacks
    /// never run while outputs are being performed, but refuse rather than re-enter if one did.
    private func control(_ request: ControlRequest) -> ControlAnswer {
        guard stopReason == nil, !isDelivering else { return ControlAnswer(ok: false, message: "the peer is busy or stopping; try again") }
        isDelivering = true
        let (answer, outputs) = machine.control(request, now: loop.now, random: &random)
        for output in outputs where stopReason == nil { perform(output) }
        isDelivering = false
        // Inputs raised while performing (a refused request, say) are delivered now.
        if !pendingInputs.isEmpty {
            let queued = pendingInputs
            pendingInputs.removeAll()
            for input in queued { deliver(input) }
        }
        return answer
    }

    private func deliver(_ input: PeerInput) {
        guard stopReason == nil else {
            counters.increment("inputs.dropped.stopped")
            return
        }
        pendingInputs.append(input)
        guard !isDelivering else { return }
        isDelivering = true
        defer {
            isDelivering = false
            pendingInputs.removeAll(keepingCapacity: true)
        }
        var index = 0
        while index < pendingInputs.count, stopReason == nil {
            let next = pendingInputs[index]
            index += 1
            let outputs = machine.handle(next, now: loop.now, random: &random)
            for output in outputs {
                guard stopReason == nil else { break }
                perform(output)
            }
        }
    }

    private func perform(_ output: PeerEffect) {
        switch output {
        case let .sendDatagram(bytes, to: destination):
            guard let address = try? SocketAddress(destination) else {
                counters.increment("udp.send.dropped.not_literal")
                return
            }
            udp?.send(bytes, to: address)
        case let .setTimer(id, at: deadline):
            timers?.set(id, at: deadline)
        case let .cancelTimer(id):
            timers?.cancel(id)
        case let .sendRequest(id, bytes, to: destination, timeout: timeout):
            streams?.request(id, bytes, to: destination, timeout: timeout)
        case let .sendReply(id, bytes):
            streams?.reply(id, bytes)
        case let .log(level, message):
            logger.log(level: level.loggerLevel, "\(message)")
        case let .memberChanged(event):
            let line = event.logLine
            logger.log(level: line.level.loggerLevel, "\(line.message)")
        case let .work(work):
            guard let taskRunner else {
                counters.increment("work.dropped without a data directory")
                return
            }
            taskRunner.perform(work)
        case let .persistTask(task):
            do {
                try store?.save(task)
            } catch {
                counters.increment("store.persist.errors")
                logger.error("cannot persist task \(task.id.short): \(error)")
            }
        case let .persist(state):
            do {
                try store?.save(state)
            } catch {
                counters.increment("store.persist.errors")
                logger.error("cannot persist membership state: \(error)")
            }
        case .left:
            logger.info("left the cluster")
            stop(.left)
        }
    }

    private func signalReceived(_ number: Int32) {
        let name = SignalWatcher.name(number)
        if isLeaving {
            logger.warning("\(name) again: stopping now")
            stop(.forced)
        } else {
            logger.notice("\(name): leaving the cluster (send it again to stop at once)")
            leave()
        }
    }

    // MARK: Tasks

    private func startTaskRunner() throws {
        guard let directory = configuration.localAPIDirectory, let blobs else { return }
        let runner = TaskRunner(
            loop: loop, blobs: blobs, store: store, dataDirectory: directory, launcher: configuration.workerLauncher,
            python: configuration.workerPython,
            socketPath: LocalAPI.socketPath(dataDirectory: directory), counters: counters,
            deliver: { [unowned self] input in self.deliver(input) },
            log: { [unowned self] level, message in self.logger.log(level: level.loggerLevel, "\(message)") })
        taskRunner = runner
        runnerCommands = TaskRunnerCommands(runner: runner, tasks: { [unowned self] in self.machine.tasks },
                                            members: { [unowned self] in self.machine.members },
                                            control: { [unowned self] in self.control($0) })
        runner.datasetsChanged = { [unowned self] in _ = self.runnerCommands?.announceStoreTags() }
        if let store {
            // Arrival files a crash left without their record are removed (DatasetAppend).
            do {
                let removed = try DatasetAppend.removeUnrecorded(store: store, dataDirectory: directory)
                if removed > 0 { logger.notice("removed \(removed) dataset file(s) under \(directory)/datasets that no record names") }
            } catch {
                logger.warning("cannot look for unrecorded dataset files: \(error)")
            }
        }
        try startServing(runner)
    }

    /// The JointInferenceService data plane: the serving executor's network, the cloud side of
    /// sealed inference requests, inference workers' connections, and the gateway for HTTP.
    private func startServing(_ runner: TaskRunner) throws {
        guard let settings = configuration.blobs, let blobs, let streams else { return }
        let serving = runner.serving
        serving.network = ServingExecutor.Network(
            me: NodeID(settings.identity.publicKey),
            send: { [unowned streams] bytes, address, timeout, completion in
                streams.request(bytes, to: address, timeout: timeout, completion: completion)
            },
            keys: { [unowned blobs] peer in blobs.pairwiseKeys(with: peer) },
            members: { [unowned self] in self.machine.members },
            linkQuality: { [unowned self] node in self.machine.linkQuality(of: node) },
            identity: settings.identity.publicKey)
        streams.inferRequestHandler = { [unowned serving] request, reply in serving.answerCloud(request, reply: reply) }
        localAPI?.onServeHello = { [unowned serving] hello, connection, leftover in
            serving.serveHello(hello, connection: connection, leftover: leftover)
        }
        inferenceGateway = try InferenceGateway(loop: loop) { [unowned serving] call in serving.handle(call) }
    }

    // MARK: Sockets

    /// Binds UDP and TCP to the same address. With port 0, UDP picks a free port and TCP takes the
    /// same one; if TCP finds it taken, both try again (a few times).
    private func bindNetwork() throws {
        let requested: SocketAddress
        do {
            requested = try SocketAddress(configuration.listen)
        } catch {
            throw RuntimeError("cannot listen on \(configuration.listen): \(error); resolve names first")
        }
        let attempts = requested.port == 0 ? 8 : 1
        for attempt in 1...attempts {
            let udp = try UDPSocket(loop: loop, bindTo: requested, counters: counters)
            do {
                let streams = try StreamExchanges(
                    loop: loop, listenOn: udp.localAddress, counters: counters, writeBudget: writeBudget,
                    readBudget: readBudget) { [unowned self] input in self.deliver(input) }
                udp.onDatagram = { [unowned self] bytes, sender in
                    self.deliver(.datagram(bytes, from: sender.peerAddress))
                }
                self.udp = udp
                self.streams = streams
                boundAddress = udp.localAddress.peerAddress
                return
            } catch {
                udp.close()
                if attempt == attempts { throw error }
            }
        }
    }

    // MARK: Blobs

    private func startBlobs() throws {
        guard let settings = configuration.blobs, let streams else { return }
        let service = try BlobService(
            loop: loop, directory: settings.directory, identity: settings.identity, counters: counters,
            isAuthorized: { [unowned self] in self.isAuthorizedForBlobs($0) },
            log: { [unowned self] level, message in self.logger.log(level: level.loggerLevel, "\(message)") },
            streams: streams)
        streams.blobRequestHandler = { [unowned service] request, reply in service.answer(request, reply: reply) }
        blobs = service
    }
}
