import Foundation
import StarlingHTTP
import StarlingInferenceAPI
import StarlingLearning

/// One request of `InferenceLoad`: when it started, how long it
/// took, and what came back: the predicted class, where it was computed (edge, cloud,
/// edge-fallback) and the edge model's version, or why it failed.
struct InferenceResult: Sendable {
    let index: Int
    let started: Date
    let seconds: Double
    let predicted: Int?
    let computedAt: String?
    var version: Int? = nil
    let failure: String?
}

enum InferenceLoadLimits {
    /// A request that takes longer failed (the cloud leg's deadline is at most 30 s).
    static let requestTimeoutSeconds = 35.0
    /// Between two requests of one sender of a `RunningLoad`: a steady load that leaves the
    /// peers' training some of the machine.
    static let runningPauseSeconds = 0.004
}

/// Sends examples, one per request, to a service through a peer's Open Inference Protocol
/// endpoint (`POST /v2/models/SERVICE/infer`, JSON tensors), as an application would, with
/// `concurrency` requests in flight at once, each sender on its own keep-alive connection.
/// Encoding and decoding are the protocol's Codable messages; the HTTP is NIO's
/// (`BlockingHTTPClient`).
struct InferenceLoad {
    let port: Int
    let service: String
    let concurrency: Int

    init(port: Int, service: String, concurrency: Int) {
        precondition(concurrency >= 1, "at least one request in flight")
        self.port = port
        self.service = service
        self.concurrency = concurrency
    }

    private var path: String { "/v2/models/\(service)/infer" }

    /// Every row of `data`, in order, each as its own request; `midway` runs (on a sending thread,
    /// before its request) when half of them have been sent.
    func send(_ data: LabeledData, midway: (@Sendable () -> Void)? = nil) -> [InferenceResult] {
        let state = LoadState(count: data.count)
        let group = DispatchGroup()
        for _ in 0..<min(concurrency, data.count) {
            DispatchQueue.global().async(group: group) {
                let client = BlockingHTTPClient(port: self.port)
                while let index = state.next() {
                    if index == data.count / 2 { midway?() }
                    let row = Array(data.features[(index * data.featureCount)..<((index + 1) * data.featureCount)])
                    state.record(self.request(row, index: index, through: client))
                }
            }
        }
        group.wait()
        return state.results()
    }

    /// Sends the rows of `data` over and over, each as its own request, until the load is
    /// stopped (`RunningLoad.stop`, which answers every result).
    func start(_ data: LabeledData) -> RunningLoad {
        let state = LoadState(count: nil)
        let group = DispatchGroup()
        for _ in 0..<concurrency {
            DispatchQueue.global().async(group: group) {
                let client = BlockingHTTPClient(port: self.port)
                while let sent = state.next() {
                    let index = sent % data.count
                    let row = Array(data.features[(index * data.featureCount)..<((index + 1) * data.featureCount)])
                    state.record(self.request(row, index: index, through: client))
                    usleep(useconds_t(InferenceLoadLimits.runningPauseSeconds * 1_000_000))
                }
            }
        }
        return RunningLoad(state: state, group: group)
    }

    private func request(_ row: [Float], index: Int, through client: BlockingHTTPClient) -> InferenceResult {
        let started = Date()
        let (predicted, place, version, failure) = infer(row, through: client)
        return InferenceResult(index: index, started: started, seconds: Date().timeIntervalSince(started), predicted: predicted,
                               computedAt: place, version: version, failure: failure)
    }

    /// One request: the class, where it was computed and the edge model's version, or what went wrong.
    private func infer(_ row: [Float], through client: BlockingHTTPClient) -> (Int?, String?, Int?, String?) {
        let request = InferRequest(inputs: [InferTensor(name: "input", shape: [1, row.count], datatype: "FP32",
                                                        data: .numbers(row.map(Double.init)))])
        let answer: BlockingHTTPClient.Response
        do {
            answer = try client.post(path, contentType: "application/json", body: Array(try JSONEncoder().encode(request)),
                                     timeoutSeconds: InferenceLoadLimits.requestTimeoutSeconds)
        } catch {
            return (nil, nil, nil, "\(error)")
        }
        let body = Data(answer.body), status = answer.status
        guard status == 200 else {
            return (nil, nil, nil, "HTTP \(status): \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
        guard let answer = try? JSONDecoder().decode(InferResponse.self, from: body),
              case let .numbers(classes)? = answer.outputs.first(where: { $0.name == "class" })?.data, classes.count == 1,
              case let .strings(places)? = answer.outputs.first(where: { $0.name == "computed_at" })?.data, places.count == 1
        else { return (nil, nil, nil, "an answer without one class and one computed_at: \(String(decoding: body.prefix(200), as: UTF8.self))") }
        return (Int(classes[0]), places[0], answer.modelVersion.flatMap { Int($0) }, nil)
    }
}

/// A load started by `InferenceLoad.start`, running until stopped.
struct RunningLoad: Sendable {
    fileprivate let state: LoadState
    fileprivate let group: DispatchGroup

    /// Every result so far, in the order the requests started.
    var results: [InferenceResult] { state.results().sorted { $0.started < $1.started } }

    /// Stops sending, waits for the requests in flight; every result, in the order they started.
    func stop() -> [InferenceResult] {
        state.stop()
        group.wait()
        return results
    }
}

/// The next request to send and the results so far, shared by the sending threads.
private final class LoadState: @unchecked Sendable {
    private let lock = NSLock()
    /// How many requests to send (nil: until stopped).
    private let count: Int?
    private var sent = 0
    private var stopped = false
    private var done: [InferenceResult] = []

    init(count: Int?) { self.count = count }

    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped, sent < count ?? .max else { return nil }
        sent += 1
        return sent - 1
    }

    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
    }

    func record(_ result: InferenceResult) {
        lock.lock()
        done.append(result)
        lock.unlock()
    }

    func results() -> [InferenceResult] {
        lock.lock()
        defer { lock.unlock() }
        return done.sorted { $0.index < $1.index }
    }
}
