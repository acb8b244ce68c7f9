import StarlingLocalAPI
import StarlingPeer
import StarlingTasks
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One long-lived inference worker (one service, one role) on this peer: its process, its
/// channel, the model version it serves, and the batches it scores (docs/workers.md, "Inference
/// workers").
///
/// - **Models.** `serve(version:path:)` sets the model wanted; the worker is sent a `load` at once
///   when connected (else when it connects). Batches sent after a load use its model (the
///   channel is ordered), so a new version takes effect without a restart and without a dropped
///   request. `onLoaded` reports each version loaded or refused.
/// - **Batches.** Requests queue (at most `ServingLimits.queuedRowsMax` rows); while fewer than
///   `batchesInFlightMax` batches are out, the queued requests with the same feature count are
///   merged into one batch of up to `batchRowsMax` rows, so concurrent requests share a worker call.
/// - **Restarts.** A worker that exits or breaks the protocol fails what it held, and is started
///   again after `ServingLimits.restartDelays` (the last repeating) until the service stops here.
final class InferenceWorker {
    struct Scores {
        let classes: Int
        /// `rows × classes`, row-major.
        let values: [Float]
        let version: UInt64
    }

    typealias Completion = (Result<Scores, ServingFailure>) -> Void

    private struct Queued {
        let values: [Float]
        let rows: Int
        let features: Int
        let completion: Completion
    }

    let task: TaskID
    let role: ServingRole
    let token: String
    private let loop: EventLoop
    private let log: WorkerLog
    private let launch: () throws -> WorkerLaunch.Command
    private let counters: RuntimeCounters
    /// Each model version loaded (nil) or refused (the reason), and a worker that cannot start.
    var onLoaded: ((UInt64, String?) -> Void)?

    private var process: ChildProcess?
    private var channel: InferenceChannel?
    private var restartTimer: LoopTimer?
    private var failuresInARow = 0
    private var stopping = false
    private(set) var wanted: (version: UInt64, path: String)?
    /// The version the worker said it loaded (batches wait until there is one).
    private(set) var loaded: UInt64?
    private var queue: [Queued] = []
    private var queuedRows = 0
    private var inFlight = 0
    private var nextBatch: UInt64 = 1

    init(task: TaskID, role: ServingRole, token: String, loop: EventLoop, log: WorkerLog, counters: RuntimeCounters,
         launch: @escaping () throws -> WorkerLaunch.Command) {
        self.task = task
        self.role = role
        self.token = token
        self.loop = loop
        self.log = log
        self.counters = counters
        self.launch = launch
    }

    var isReady: Bool { loaded != nil && channel != nil }

    /// Serve `version` from the safetensors file at `path` (started, or hot-swapped).
    func serve(version: UInt64, path: String) {
        precondition(!stopping, "a stopped worker serves nothing")
        wanted = (version, path)
        if let channel { sendLoad(on: channel) } else { startIfNeeded() }
    }

    /// The worker's hello arrived (and was welcomed): jobs go over this connection from now on.
    func attach(_ connection: StreamConnection, leftover: [UInt8]) {
        guard !stopping else {
            connection.close()
            return
        }
        channel?.close("replaced by a new connection")
        let channel = InferenceChannel(connection: connection)
        self.channel = channel
        channel.onClosed = { [weak self, weak channel] reason in
            guard let self, let channel, self.channel === channel else { return }
            self.channelClosed(reason)
        }
        channel.start(leftover: leftover)
        if wanted != nil { sendLoad(on: channel) }
    }

    /// Queues `rows` examples for scoring; fails at once when the queue is full or the worker stopped.
    func score(_ values: [Float], rows: Int, features: Int, completion: @escaping Completion) {
        precondition(rows > 0 && values.count == rows * features, "a request's values fill its rows")
        guard !stopping else { return completion(.failure(.unavailable("the service stopped on this peer"))) }
        guard queuedRows + rows <= ServingLimits.queuedRowsMax else {
            counters.increment("serving.refused.queue_full")
            return completion(.failure(.busy("\(queuedRows) examples already wait for the \(role.rawValue) worker "
                + "(ServingLimits.queuedRowsMax \(ServingLimits.queuedRowsMax))")))
        }
        queue.append(Queued(values: values, rows: rows, features: features, completion: completion))
        queuedRows += rows
        pump()
    }

    /// Stops for good: the worker is told to stop, then killed if it lingers; what waits fails.
    func stop() {
        guard !stopping else { return }
        stopping = true
        restartTimer?.close()
        restartTimer = nil
        failQueue(.unavailable("the service stopped on this peer"))
        channel?.send(.stop)
        let process = self.process
        if process != nil, let timer = try? LoopTimer(loop: loop) {
            timer.start(after: WorkerLimits.stopGrace) { [weak self] in
                timer.close()
                process?.kill(SIGKILL)
                self?.closeNow()
            }
        } else {
            closeNow()
        }
    }

    private func closeNow() {
        channel?.close("stopped")
        channel = nil
        process?.close()
        process = nil
        log.close()
    }

    // MARK: Batches

    private func pump() {
        guard let channel, let loaded, !queue.isEmpty else { return }
        while inFlight < ServingLimits.batchesInFlightMax, !queue.isEmpty {
            let features = queue[0].features
            var taken: [Queued] = []
            var rows = 0
            var index = 0
            while index < queue.count {
                let next = queue[index]
                if next.features == features && (rows == 0 || rows + next.rows <= ServingLimits.batchRowsMax) {
                    taken.append(next)
                    rows += next.rows
                    queue.remove(at: index)
                } else {
                    index += 1
                }
                if rows >= ServingLimits.batchRowsMax { break }
            }
            queuedRows -= rows
            var values: [Float] = []
            values.reserveCapacity(rows * features)
            for request in taken { values.append(contentsOf: request.values) }
            let batch = nextBatch
            nextBatch += 1
            inFlight += 1
            counters.increment("serving.batches")
            counters.increment("serving.batch_rows", by: UInt64(rows))
            channel.send(.infer(batch: batch, version: loaded, shape: [rows, features], data: values)) { [weak self] answer in
                self?.batchAnswered(answer, batch: batch, rows: rows, taken: taken, version: loaded)
            }
        }
    }

    private func batchAnswered(_ answer: ServeAnswer?, batch: UInt64, rows: Int, taken: [Queued], version: UInt64) {
        inFlight -= 1
        switch answer {
        case let .scores(answered, classes, scores)? where answered == batch:
            guard classes > 0, classes <= InferenceWireLimits.classesMax, scores.count == rows * classes else {
                counters.increment("serving.worker_errors")
                for request in taken {
                    request.completion(.failure(.worker("the worker answered \(scores.count) scores of \(classes) classes "
                        + "for \(rows) examples")))
                }
                break
            }
            failuresInARow = 0
            var offset = 0
            for request in taken {
                let count = request.rows * classes
                request.completion(.success(Scores(classes: classes, values: Array(scores[offset..<(offset + count)]), version: version)))
                offset += count
            }
        case let .failed(_, error)?:
            counters.increment("serving.worker_errors")
            for request in taken { request.completion(.failure(.worker(error))) }
        case .some:
            channel?.close("the worker answered another job than the one asked")
            for request in taken { request.completion(.failure(.worker("the worker broke the protocol"))) }
        case nil:
            for request in taken { request.completion(.failure(.unavailable("the \(role.rawValue) worker went away"))) }
        }
        pump()
    }

    private func failQueue(_ failure: ServingFailure) {
        let waiting = queue
        queue = []
        queuedRows = 0
        for request in waiting { request.completion(.failure(failure)) }
    }

    // MARK: Models

    private func sendLoad(on channel: InferenceChannel) {
        guard let (version, path) = wanted else { return }
        channel.send(.load(version: version, model: path)) { [weak self] answer in
            guard let self else { return }
            switch answer {
            case let .loaded(loadedVersion, nil)? where loadedVersion == version:
                // The restart delays start over only once a batch is answered: a worker that loads
                // and then breaks is not restarted ever faster.
                self.loaded = version
                self.log.append("--- serving model version \(version)\n")
                self.onLoaded?(version, nil)
                self.pump()
            case let .loaded(_, error?)?:
                self.counters.increment("serving.loads_refused")
                self.onLoaded?(version, "the worker cannot load the model: \(error)")
            case .some:
                channel.close("the worker answered a load with something else")
            case nil:
                break  // the channel closed: reported there
            }
        }
    }

    // MARK: Process

    private func startIfNeeded() {
        guard process == nil, restartTimer == nil, !stopping else { return }
        let command: WorkerLaunch.Command
        do {
            command = try launch()
        } catch {
            onLoaded?(wanted?.version ?? 0, "cannot start the \(role.rawValue) worker: \(error)")
            return
        }
        log.append("--- starting \(role.rawValue) worker: \(command.arguments.joined(separator: " "))\n")
        do {
            process = try ChildProcess(
                loop: loop, arguments: command.arguments, environment: command.environment, directory: command.directory,
                onOutput: { [weak self] bytes, _ in self?.log.append(bytes) },
                onExit: { [weak self] status, signal in self?.exited(status: status, signal: signal) })
            counters.increment("serving.workers_started")
        } catch {
            onLoaded?(wanted?.version ?? 0, "cannot start the \(role.rawValue) worker: \(error)")
        }
    }

    private func channelClosed(_ reason: String) {
        channel = nil
        loaded = nil
        log.append("--- connection closed: \(reason)\n")
        guard !stopping else { return }
        // A live process without its connection is of no use: it is killed and started again.
        process?.kill(SIGKILL)
    }

    private func exited(status: Int64, signal: Int32) {
        process?.close()
        process = nil
        let how = signal != 0 ? "was killed by signal \(signal)" : "exited with status \(status)"
        log.append("--- \(role.rawValue) worker \(how)\n")
        channel?.close("the worker exited")
        channel = nil
        loaded = nil
        guard !stopping else {
            log.close()
            return
        }
        counters.increment("serving.worker_exits")
        // Requests that wait would wait for the restart; the edge answers them otherwise.
        failQueue(.unavailable("the \(role.rawValue) worker \(how); restarting it"))
        if failuresInARow == 0, let version = wanted?.version { onLoaded?(version, "the \(role.rawValue) worker \(how)") }
        let delays = ServingLimits.restartDelays
        let delay = delays[min(failuresInARow, delays.count - 1)]
        failuresInARow += 1
        guard let timer = try? LoopTimer(loop: loop) else { return }
        restartTimer = timer
        timer.start(after: delay) { [weak self] in
            guard let self else { return }
            self.restartTimer?.close()
            self.restartTimer = nil
            self.startIfNeeded()
        }
    }
}

/// Why a request could not be scored by a worker (mapped to HTTP statuses by the endpoint).
enum ServingFailure: Error, Equatable {
    /// The worker's queue is full: 429.
    case busy(String)
    /// No worker can score now (starting, restarting, stopped): 503.
    case unavailable(String)
    /// The worker refused the batch (its handler raised): 500-like, reported as 503 with the text.
    case worker(String)

    var message: String {
        switch self {
        case let .busy(text), let .unavailable(text), let .worker(text): return text
        }
    }
}
