import StarlingMembership
import StarlingPeer

/// What `BlobService` needs from the runtime's TCP exchanges: one request with a callback, and how
/// many bytes wait to be written (serving answers "busy" beyond its share).
public protocol BlobTransport: AnyObject {
    /// Connect, write `body` as one frame, read one frame, close; `completion` runs exactly once on
    /// the loop (at once if the request is refused).
    func sendBlobRequest(_ body: [UInt8], to destination: PeerAddress, timeout: Duration,
                         completion: @escaping (Result<[UInt8], ExchangeFailure>) -> Void)
    /// Bytes queued for writing on all streams of the runtime now.
    var queuedWriteBytes: Int { get }
}

/// Why a fetch failed.
public enum BlobFetchError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No source to ask (none given, or only this node).
    case noSources
    /// `BlobLimits.fetchesMax` fetches run and `fetchesQueuedMax` wait already, or too many callers
    /// wait on this one.
    case tooManyFetches
    /// The sources could not deliver it; the reason names the chunk and the last problem.
    case unavailable(String)
    /// The local disk failed.
    case storage(String)
    /// The service was closed (the runtime is stopping).
    case stopped

    public var description: String {
        switch self {
        case .noSources: return "no source to fetch from"
        case .tooManyFetches: return "too many fetches at once"
        case let .unavailable(reason): return "unavailable: \(reason)"
        case let .storage(reason): return "storage: \(reason)"
        case .stopped: return "stopped"
        }
    }
}
