import CLibUV

/// Why the runtime could not do what it was asked, in words an operator can act on.
public struct RuntimeError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }

    /// A libuv failure: what was being done, then libuv's own text (`address already in use`).
    static func libuv(_ doing: String, _ status: Int32) -> RuntimeError {
        RuntimeError("\(doing): \(UVStatus.text(status))")
    }
}

/// libuv's error codes as text.
enum UVStatus {
    static func text(_ status: Int32) -> String { String(cString: uv_strerror(status)) }
    static func name(_ status: Int32) -> String { String(cString: uv_err_name(status)) }

    static let endOfFile = UV_EOF.rawValue
    static let cancelled = UV_ECANCELED.rawValue
    static let wouldBlock = UV_EAGAIN.rawValue
    static let addressInUse = UV_EADDRINUSE.rawValue
}
