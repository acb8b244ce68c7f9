import StarlingInferenceAPI

/// Every bound of the HTTP endpoint, in one place. Whatever a client can make the server hold
/// (connections, bytes, calls, time) has a maximum here; what goes over is refused with its status
/// and counted (`InferenceHTTPServer.counters()`, `http.refused.*`). `InferenceHTTPSettings`
/// starts from these; tests shrink them.
public enum InferenceHTTPLimits {
    /// A request body past this is refused with 413 as soon as Content-Length says so, or as soon as
    /// a chunked body passes it, and the connection is closed without reading the rest.
    public static let requestBytesMax = InferenceAPILimits.requestBytesMax
    /// The request line and headers together: NIO's decoder stops past this (431).
    public static let headerBytesMax = 16 << 10
    /// Backend calls waiting for their reply across the whole server; more are refused with 429.
    public static let callsInFlightMax = 256
    /// The backend must reply within this; else the client gets 503 and the late reply is dropped.
    public static let callTimeout: Duration = .seconds(10)
    /// A keep-alive connection with no request under way is closed after this long without a byte.
    public static let idleTimeout: Duration = .seconds(60)
    /// Open connections; one more is answered 503 to each request and closed.
    public static let connectionsMax = 512
}

/// The bounds one server runs with: `InferenceHTTPLimits` unless a test says otherwise.
public struct InferenceHTTPSettings: Sendable {
    public var requestBytesMax = InferenceHTTPLimits.requestBytesMax
    public var headerBytesMax = InferenceHTTPLimits.headerBytesMax
    public var callsInFlightMax = InferenceHTTPLimits.callsInFlightMax
    public var callTimeout = InferenceHTTPLimits.callTimeout
    public var idleTimeout = InferenceHTTPLimits.idleTimeout
    public var connectionsMax = InferenceHTTPLimits.connectionsMax

    public init() {}
}
