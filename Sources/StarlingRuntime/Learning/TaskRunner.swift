import StarlingCrypto
import StarlingLearning
import StarlingPeer
import StarlingStore
import StarlingTasks

/// The runtime's driver for `TaskWork` (docs/workers.md): worker processes (supervisors), models as
/// blobs, and one executor per kind (`FederatedExecutor`) for the kind's own work. Everything runs
/// on the loop's thread; each piece of work is answered with a `.workDone` input.
final class TaskRunner {
    struct WorkerKey: Hashable {
        let task: TaskID
        let worker: String
    }

    let loop: EventLoop
    let blobs: BlobProvider
    let store: Store?
    let dataDirectory: String
    let launch: WorkerLaunch
    let counters: RuntimeCounters
    private let deliver: (PeerInput) -> Void
    let log: (LogLevel, String) -> Void
    var supervisors: [WorkerKey: WorkerSupervisor] = [:]
    /// Called after the runner itself changed a registered dataset (hard examples kept as
    /// arrivals), so the peer declares the new size in its tags.
    var datasetsChanged: () -> Void = {}
    /// The FederatedTask executor: training, collecting, aggregating, central evaluation.
    private(set) lazy var federated = FederatedExecutor(runner: self)
    /// The JointInferenceService executor: inference workers and the data plane.
    private(set) lazy var serving = ServingExecutor(runner: self)
    private(set) lazy var incremental = IncrementalExecutor(runner: self)

    init(loop: EventLoop, blobs: BlobProvider, store: Store?, dataDirectory: String, launcher: String?, python: String?,
         socketPath: String, counters: RuntimeCounters, deliver: @escaping (PeerInput) -> Void,
         log: @escaping (LogLevel, String) -> Void) {
        self.loop = loop
        self.blobs = blobs
        self.store = store
        self.dataDirectory = dataDirectory
        self.launch = WorkerLaunch(launcher: launcher, socketPath: socketPath, workDirectory: "\(dataDirectory)/work",
                                   python: python)
        self.counters = counters
        self.deliver = deliver
        self.log = log
    }

    func perform(_ work: TaskWork) {
        switch work {
        case let .federated(work): federated.perform(work)
        case let .serve(work): serving.perform(work)
        case let .incremental(work): incremental.perform(work)
        case let .holdModel(task, round, model, sources): hold(model, task: task, round: round, sources: sources)
        case let .release(task, reason): release(task, reason: reason)
        }
    }

    /// Peer shutdown: every worker is killed now.
    func shutdown() {
        for supervisor in supervisors.values { supervisor.close() }
        supervisors = [:]
        federated.shutdown()
        serving.shutdown()
        incremental.shutdown()
    }

    func answer(_ result: TaskWorkResult) { deliver(.workDone(result)) }
    func answer(_ result: FederatedWorkResult) { deliver(.workDone(.federated(result))) }

    static func logDirectory(_ dataDirectory: String, task: TaskID) -> String { "\(dataDirectory)/logs/\(task.text.prefix(16))" }

    // MARK: Models

    private func hold(_ model: ContentHash, task: TaskID, round: UInt64, sources: [BlobSource]) {
        blobs.fetchBlob(model, from: sources) { [weak self] result in
            guard let self else { return }
            switch result {
            case .success:
                self.modelArrived(model, task: task, taskName: nil, round: round, epoch: 0)
                self.answer(.modelHeld(model))
            case let .failure(error):
                self.counters.increment("models.fetch failed")
                self.log(.warning, "cannot fetch model \(model.hex.prefix(12)) of round \(round): \(error)")
            }
        }
    }

    /// Records a committed model held here (made, replicated or fetched as a round's base), with
    /// the round and metrics its metadata carries, and deletes the task's models beyond the
    /// retention, except a blob an imported model names (the same contents, exported and imported
    /// again as another task's start). `made`: the model and its encoded size when this peer just
    /// made it (else the blob is read, once). Round 0 (an imported starting model) is no commit.
    func modelArrived(_ hash: ContentHash, task: TaskID, taskName: String?, round: UInt64, epoch: UInt64,
                      made: (model: ModelWeights, byteCount: Int)? = nil) {
        guard let store, round > 0 else { return }
        var known = made
        if known == nil, let bytes = try? blobs.read(hash), let weights = try? SafeTensors.decode(bytes) {
            known = (weights, bytes.count)
        }
        let metadata = known?.model.metadata ?? [:]
        let record = ModelRecord(
            hash: hash.hex, task: task.text, taskName: taskName ?? metadata[ModelMetadata.taskName] ?? "",
            round: metadata[ModelMetadata.round].flatMap(UInt64.init) ?? round,
            epoch: metadata[ModelMetadata.epoch].flatMap(UInt64.init) ?? epoch,
            metrics: ModelMetadata.metrics(in: metadata), bytes: UInt64(known?.byteCount ?? 0),
            parameters: UInt64(known?.model.parameterCount ?? 0), savedAt: UnixClock.now())
        do {
            let dropped = try store.saveModel(record, keepPerTask: WorkerLimits.modelsPerTaskMax)
            guard !dropped.isEmpty else { return }
            let imported = Set(try store.importedModels().map(\.hash))
            for old in dropped where !imported.contains(old) {
                if let id = try? ContentHash(hex: old) { try? blobs.remove(id) }
            }
        } catch {
            log(.warning, "cannot record model \(hash.hex.prefix(12)): \(error)")
        }
    }

    // MARK: Release

    private func release(_ task: TaskID, reason: String) {
        for (key, supervisor) in supervisors where key.task == task {
            // The supervisor (and its log) goes once its process has exited: told "stop", it has
            // WorkerLimits.doneGrace to finish by itself. A peer stopping meanwhile does not wait
            // for it: `shutdown` closes every supervisor (and kills its process) at once.
            supervisor.onStopped = { [weak self, weak supervisor] in
                guard let self, let supervisor, self.supervisors[key] === supervisor, supervisor.released else { return }
                supervisor.close()
                self.supervisors[key] = nil
            }
            supervisor.release()
        }
        federated.release(task)
        serving.release(task)
        incremental.release(task)
        log(.info, "task \(task.short): workers released (\(reason))")
    }
}

extension Error {
    /// An `UpdateRejection`'s reason, or the error's description.
    var reason: String { (self as? UpdateRejection)?.reason ?? "\(self)" }
}
