import Logging
import StarlingPeer

extension LogLevel {
    /// The swift-log level of a machine's `.log` output.
    var loggerLevel: Logger.Level {
        switch self {
        case .debug: return .debug
        case .info: return .info
        case .notice: return .notice
        case .warning: return .warning
        case .error: return .error
        }
    }
}
