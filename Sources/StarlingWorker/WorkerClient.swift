import Foundation
import StarlingLearning
import StarlingLocalAPI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Swift Lib: a worker's side of the local API (docs/workers.md), the same shape as the
/// Python Lib.
///
///     let worker = try WorkerClient(context: .fromEnvironment())
///     while let round = try worker.nextRound() {
///         let weights = try round.globalWeights()      // nil in round 1
///         ...
///         try round.submit(trained, sampleCount: n, metrics: ["loss": loss])
///     }
///
/// A worker never outlives its peer: when the peer cannot be reached for `unreachableLimit`, or
/// the parent process changes, `nextRound` exits the process with status 3. The messages are
/// StarlingLocalAPI's types (docs/workers.md, "Protocol").
public final class WorkerClient {
    /// Between polls while the peer has nothing to do.
    public static let pollInterval: Duration = .milliseconds(50)
    public static let unreachableLimit: Duration = .seconds(10)

    public let context: WorkerContext
    let parent = getppid()

    public init(context: WorkerContext) {
        self.context = context
    }

    /// Who this worker is, in each of its requests.
    var identity: WorkerIdentity { WorkerIdentity(task: context.task, worker: context.worker, token: context.token) }

    /// One `worker-poll`, asked again while the peer cannot be reached; a worker whose peer is
    /// gone (unreachable for `unreachableLimit`, or its parent changed) exits with status 3. A
    /// refusal (`ErrorResponse`) or an answer this Lib cannot read is thrown at once.
    func poll() throws -> WorkerJob {
        var unreachableSince: ContinuousClock.Instant?
        while true {
            if getppid() != parent { Self.exitOrphaned("the peer that started this worker is gone") }
            do {
                return try send(.workerPoll(identity), as: WorkerJob.self)
            } catch let error as LocalClientError where error.kind != .badAnswer {
                let since = unreachableSince ?? .now
                unreachableSince = since
                if ContinuousClock.now - since > Self.unreachableLimit {
                    Self.exitOrphaned("the peer has not answered for \(Self.unreachableLimit): \(error)")
                }
                Self.pause()
            }
        }
    }

    /// Waits for the next round; nil when the peer says stop.
    public func nextRound() throws -> WorkerRound? {
        if isEvaluator {
            throw WorkerError("this process was started to score global models centrally (aggregationWorker.evaluation): "
                + "call serveEvaluations before nextRound (docs/workers.md, \"Central evaluation\")")
        }
        if isModelEvaluator {
            throw WorkerError("this process was started to evaluate an IncrementalLearningJob's models (STARLING_ROLE=eval): "
                + "call evaluateModels before nextRound (docs/workers.md, \"Evaluation workers (IncrementalLearningJob)\")")
        }
        while true {
            switch try poll() {
            case let .train(job):
                return WorkerRound(client: self, number: job.round, epoch: job.epoch, modelPath: job.model, validate: job.validate,
                                   deadline: job.deadline)
            case .stop:
                return nil
            case .wait:
                Self.pause()
            case .evaluate:
                throw WorkerError("the peer asks a training worker to evaluate a model; this process was not started "
                    + "as an evaluator (STARLING_ROLE=evaluate)")
            }
        }
    }

    /// One request; the peer's answer as `Answer`. A refusal is thrown as a WorkerError naming it.
    func send<Answer: Decodable>(_ request: LocalRequest, as answer: Answer.Type) throws -> Answer {
        do {
            return try LocalClient(socketPath: context.socketPath).send(request, as: answer)
        } catch let refusal as ErrorResponse {
            throw WorkerError("the peer refused \(request.command.rawValue): \(refusal.error)")
        }
    }

    static func pause() {
        Thread.sleep(forTimeInterval: Double(pollInterval.components.attoseconds) / 1e18)
    }

    static func exitOrphaned(_ why: String) -> Never {
        FileHandle.standardError.write(Data("starling worker: \(why); exiting\n".utf8))
        exit(3)
    }
}

/// A round to train.
public struct WorkerRound {
    let client: WorkerClient
    public let number: UInt64
    public let epoch: UInt64
    /// The global model's file (nil in round 1).
    public let modelPath: String?
    /// Evaluate the global model on local data this round, and report it in the metrics.
    public let validate: Bool
    /// Unix seconds on the coordinator's clock.
    public let deadline: UInt64

    /// The global model, or nil in round 1 (start from a model seeded with `context.seed`).
    public func globalWeights() throws -> ModelWeights? {
        guard let modelPath else { return nil }
        guard let data = FileManager.default.contents(atPath: modelPath) else {
            throw WorkerError("cannot read the global model at \(modelPath)")
        }
        return try SafeTensors.decode([UInt8](data))
    }

    /// Writes the update as safetensors into the work directory and hands it to the peer.
    public func submit(_ weights: ModelWeights, sampleCount: UInt64, metrics: [String: Double] = [:]) throws {
        let path = "\(client.context.workDirectory)/update-\(number).safetensors"
        guard FileManager.default.createFile(atPath: path, contents: Data(SafeTensors.encode(weights))) else {
            throw WorkerError("cannot write \(path)")
        }
        let update = WorkerUpdate(epoch: epoch, round: number, update: path, numSamples: sampleCount, metrics: metrics)
        let answer = try client.send(.workerSubmit(client.identity, update), as: OutcomeResponse.self)
        guard answer.ok else { throw WorkerError("the peer refused the update: \(answer.message)") }
    }

    /// Tells the peer this round cannot be trained here.
    public func fail(_ reason: String) throws {
        let answer = try client.send(.workerFail(client.identity, WorkerFailure(epoch: epoch, round: number, reason: reason)),
                                     as: OutcomeResponse.self)
        guard answer.ok else { throw WorkerError("the peer refused worker-fail: \(answer.message)") }
    }
}
