import StarlingHTTP
import StarlingInferenceAPI
import StarlingLearning
import StarlingRuntime

/// The peer's side of `starling peer --http`: each HTTP call is read on its NIO thread (JSON and
/// Triton's binary tensors are the server's business), handed to the peer's loop through its
/// `InferenceGateway`, and answered from there. The answer names, for each example, its class,
/// its scores and where it was computed; its `parameters` say `computed_at` (edge, cloud,
/// edge-fallback, or mixed) and, after a fallback, `fallback_reason`.
struct PeerInferenceBackend: InferenceBackend {
    let gateway: InferenceGateway

    /// The outputs every answer can carry, by name.
    static let outputNames = ["scores", "class", "computed_at"]

    func handle(_ call: InferenceCall, reply: @escaping @Sendable (InferenceOutcome) -> Void) {
        switch call {
        case .ready:
            reply(.ready(true))
        case let .metadata(model):
            gateway.submit(.describe(service: model) { description in
                guard let description else {
                    return reply(.refused(InferenceAPIError(.notFound, "no service named \(model) is served (as an edge) on this peer")))
                }
                reply(.metadata(Self.metadata(description), ready: description.ready))
            })
        case let .infer(model, request):
            let batch: InferenceBatch
            do {
                batch = try InferenceBatch(request, features: nil)
                if let unknown = request.outputs?.first(where: { !Self.outputNames.contains($0.name) }) {
                    throw InferenceAPIError(.badRequest, "output \(unknown.name) is not served; the outputs are "
                        + Self.outputNames.joined(separator: ", "))
                }
            } catch let error as InferenceAPIError {
                return reply(.refused(error))
            } catch {
                return reply(.refused(InferenceAPIError(.badRequest, "\(error)")))
            }
            gateway.submit(.infer(service: model, values: batch.values, rows: batch.rows, features: batch.features) { result in
                switch result {
                case let .success(outcome): reply(.inferred(Self.response(outcome, model: model, request: request, rows: batch.rows)))
                case let .failure(refusal): reply(.refused(Self.error(refusal)))
                }
            })
        }
    }

    static func error(_ refusal: InferRefusal) -> InferenceAPIError {
        switch refusal {
        case let .notFound(text): return InferenceAPIError(.notFound, text)
        case let .badRequest(text): return InferenceAPIError(.badRequest, text)
        case let .busy(text): return InferenceAPIError(.tooManyRequests, text)
        case let .unavailable(text): return InferenceAPIError(.unavailable, text)
        }
    }

    static func metadata(_ description: ServiceDescription) -> ModelMetadataResponse {
        ModelMetadataResponse(
            name: description.name, versions: description.version > 0 ? ["\(description.version)"] : [], platform: "starling",
            inputs: [.init(name: "input", datatype: "FP32", shape: [-1, -1])],
            outputs: [.init(name: "scores", datatype: "FP32", shape: [-1, -1]), .init(name: "class", datatype: "INT64", shape: [-1]),
                      .init(name: "computed_at", datatype: "BYTES", shape: [-1])])
    }

    static func response(_ outcome: InferOutcome, model: String, request: InferRequest, rows: Int) -> InferResponse {
        let classes = outcome.classes
        let predicted = JointAnswer.classes(of: outcome.scores, classes: classes).map(Double.init)
        let places = Set(outcome.computedAt)
        var parameters: [String: InferParameter] = [
            "computed_at": .string(places.count == 1 ? places.first!.rawValue : "mixed"),
            "edge_version": .number(Double(outcome.edgeVersion)),
        ]
        if let reason = outcome.fallbackReason { parameters["fallback_reason"] = .string(reason) }
        if let cloud = outcome.cloudVersion { parameters["cloud_version"] = .number(Double(cloud)) }
        var outputs = [
            InferTensor(name: "scores", shape: [rows, classes], datatype: "FP32", data: .numbers(outcome.scores.map(Double.init))),
            InferTensor(name: "class", shape: [rows], datatype: "INT64", data: .numbers(predicted)),
            InferTensor(name: "computed_at", shape: [rows], datatype: "BYTES", data: .strings(outcome.computedAt.map(\.rawValue))),
        ]
        if let asked = request.outputs { outputs = outputs.filter { tensor in asked.contains { $0.name == tensor.name } } }
        return InferResponse(modelName: model, modelVersion: "\(outcome.edgeVersion)", id: request.id, parameters: parameters,
                             outputs: outputs)
    }
}
