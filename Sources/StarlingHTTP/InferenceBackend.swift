import StarlingInferenceAPI

/// What the HTTP endpoint asks of the peer: one case per route that needs the peer's knowledge
/// (liveness and the server's own metadata are answered by the server itself).
public enum InferenceCall: Sendable {
    /// `GET /v2/health/ready`.
    case ready
    /// `GET /v2/models/NAME` and `GET /v2/models/NAME/ready` (and their `/versions/V` forms).
    case metadata(model: String)
    /// `POST /v2/models/NAME/infer` (and `/v2/models/NAME/versions/V/infer`), JSON or binary alike.
    case infer(model: String, InferRequest)
}

/// The peer's answer to an `InferenceCall`.
public enum InferenceOutcome: Sendable {
    /// To `.ready`: 200 `{}`, or 503 `{"error":...}`.
    case ready(Bool)
    /// To `.metadata`: the metadata route answers it (200) whatever `ready` says; the ready route
    /// answers 200 `{}` or 503.
    case metadata(ModelMetadataResponse, ready: Bool)
    /// To `.infer`: 200, in JSON or in the binary form as the request asked.
    case inferred(InferResponse)
    /// To any call: the error's status and `{"error": message}`.
    case refused(InferenceAPIError)
}

/// The peer's side of the endpoint. The server calls `handle` on one of its NIO threads and waits
/// for `reply` without blocking that thread, so a backend may hand the call to another loop (the
/// peer's libuv thread) and reply from there.
public protocol InferenceBackend: Sendable {
    /// Called on a NIO thread; calls `reply` exactly once, from any thread, possibly later. A reply
    /// after `InferenceHTTPLimits.callTimeout` (the client already has its 503) is ignored and
    /// counted, and so is a second reply.
    func handle(_ call: InferenceCall, reply: @escaping @Sendable (InferenceOutcome) -> Void)
}
