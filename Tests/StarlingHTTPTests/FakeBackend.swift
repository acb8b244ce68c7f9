import Foundation
import StarlingHTTP
import StarlingInferenceAPI

/// A backend for the server's tests: model `digits` (3 features) answers `scores` = 2 × each value,
/// from a thread of its own; with `holding` set, inference replies wait until `release()`.
final class FakeBackend: InferenceBackend, @unchecked Sendable {
    private let lock = NSLock()
    private var held: [@Sendable () -> Void] = []
    private var holdingCalls = false
    private var readyNow = true
    var calls: [InferenceCall] { lock.withLock { _calls } }
    private var _calls: [InferenceCall] = []

    static let metadata = ModelMetadataResponse(
        name: "digits", versions: ["1"], platform: "starling",
        inputs: [.init(name: "x", datatype: "FP32", shape: [-1, 3])],
        outputs: [.init(name: "scores", datatype: "FP32", shape: [-1, 3])])

    var holding: Bool {
        get { lock.withLock { holdingCalls } }
        set { lock.withLock { holdingCalls = newValue } }
    }

    var ready: Bool {
        get { lock.withLock { readyNow } }
        set { lock.withLock { readyNow = newValue } }
    }

    var heldCount: Int { lock.withLock { held.count } }

    /// Sends every held reply, each from a thread of its own.
    func release() {
        let replies = lock.withLock { () -> [@Sendable () -> Void] in
            defer { held = [] }
            return held
        }
        for reply in replies { Thread.detachNewThread(reply) }
    }

    func handle(_ call: InferenceCall, reply: @escaping @Sendable (InferenceOutcome) -> Void) {
        lock.withLock { _calls.append(call) }
        switch call {
        case .ready:
            reply(.ready(ready))
        case let .metadata(model):
            reply(model == "digits" ? .metadata(Self.metadata, ready: ready)
                                    : .refused(InferenceAPIError(.notFound, "no model \(model)")))
        case let .infer(model, request):
            let outcome = Self.infer(model, request)
            if holding {
                lock.withLock { held.append { reply(outcome) } }
            } else {
                Thread.detachNewThread { reply(outcome) }
            }
        }
    }

    static func infer(_ model: String, _ request: InferRequest) -> InferenceOutcome {
        guard model == "digits" else { return .refused(InferenceAPIError(.notFound, "no model \(model)")) }
        do {
            let batch = try InferenceBatch(request, features: 3)
            return .inferred(InferResponse(
                modelName: "digits", id: request.id, parameters: ["computed_at": .string("edge")],
                outputs: [InferTensor(name: "scores", shape: [batch.rows, 3], datatype: "FP32",
                                      data: .numbers(batch.values.map { Double($0) * 2 }))]))
        } catch {
            return .refused(error)
        }
    }
}
