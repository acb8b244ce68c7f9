/// A shared allowance of bytes (queued writes, buffered reads) across all streams of a runtime.
///
/// Streams reserve before they hold bytes and release when the bytes are gone, so the total a
/// remote peer can make us hold has one bound, whatever the number of connections.
final class ByteBudget {
    let limit: Int
    private(set) var used = 0

    init(limit: Int) { self.limit = limit }

    /// Takes `count` bytes of the allowance, or returns false (taking nothing) when they do not fit.
    func reserve(_ count: Int) -> Bool {
        guard count <= limit - used else { return false }
        used += count
        return true
    }

    func release(_ count: Int) {
        precondition(count <= used, "released \(count) bytes but only \(used) were reserved")
        used -= count
    }
}
