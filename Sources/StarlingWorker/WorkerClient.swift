import Foundation
import StarlingLearning
import StarlingRuntime
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
/// the parent process changes, `nextRound` exits the process with status 3.
public final class WorkerClient {
    /// Between polls while the peer has nothing to do.
    public static let pollInterval: Duration = .milliseconds(50)
    public static let unreachableLimit: Duration = .seconds(10)

    public let context: WorkerContext
    private let parent = getppid()

    public init(context: WorkerContext) {
        self.context = context
    }

    /// One `worker-poll`, asked again while the peer cannot be reached; a worker whose peer is
    /// gone (unreachable for `unreachableLimit`, or its parent changed) exits with status 3.
    func poll() throws -> [String: Any] {
        var unreachableSince: ContinuousClock.Instant?
        while true {
            if getppid() != parent { Self.exitOrphaned("the peer that started this worker is gone") }
            do {
                return try request(["command": "worker-poll"])
            } catch let error as WorkerError where error.description.hasPrefix("the peer refused:") {
                throw error
            } catch {
                let since = unreachableSince ?? .now
                unreachableSince = since
                if ContinuousClock.now - since > Self.unreachableLimit {
                    Self.exitOrphaned("the peer has not answered for \(Self.unreachableLimit): \(error)")
                }
                Thread.sleep(forTimeInterval: Double(Self.pollInterval.components.attoseconds) / 1e18)
            }
        }
    }

    /// Waits for the next round; nil when the peer says the task is done.
    public func nextRound() throws -> WorkerRound? {
        if isEvaluator {
            throw WorkerError("this process was started to score global models centrally (aggregationWorker.evaluation): "
                + "call serveEvaluations before nextRound (docs/workers.md, \"Central evaluation\")")
        }
        while true {
            let answer = try poll()
            switch answer["state"] as? String {
            case "train":
                return WorkerRound(client: self, number: Self.uint(answer["round"]), epoch: Self.uint(answer["epoch"]),
                                   modelPath: answer["model"] as? String, validate: answer["validate"] as? Bool ?? false,
                                   deadline: Self.uint(answer["deadline"]))
            case "done":
                return nil
            default:
                Thread.sleep(forTimeInterval: Double(Self.pollInterval.components.attoseconds) / 1e18)
            }
        }
    }

    /// One request with the worker's identity fields added; the JSON answer.
    func request(_ fields: [String: Any]) throws -> [String: Any] {
        var object = fields
        object["task"] = context.task
        object["worker"] = context.worker
        object["token"] = context.token
        var line = [UInt8](try JSONSerialization.data(withJSONObject: object))
        line.append(UInt8(ascii: "\n"))
        let bytes = try LocalClient.request(line: line, socketPath: context.socketPath)
        guard let answer = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
            throw WorkerError("the peer answered something that is not JSON")
        }
        if let error = answer["error"] as? String { throw WorkerError("the peer refused: \(error)") }
        return answer
    }

    static func uint(_ value: Any?) -> UInt64 { (value as? NSNumber)?.uint64Value ?? 0 }

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
        let answer = try client.request(["command": "worker-submit", "epoch": epoch, "round": number, "update": path,
                                         "num_samples": sampleCount, "metrics": metrics])
        guard answer["ok"] as? Bool == true else {
            throw WorkerError("the peer refused the update: \(answer["message"] as? String ?? "no reason")")
        }
    }

    /// Tells the peer this round cannot be trained here.
    public func fail(_ reason: String) throws {
        _ = try client.request(["command": "worker-fail", "epoch": epoch, "round": number, "reason": reason])
    }
}
