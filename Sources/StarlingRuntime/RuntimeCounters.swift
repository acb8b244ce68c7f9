/// Named event counts kept by the runtime: everything dropped or refused, and why.
///
/// Names are dotted and lower case (`udp.receive.dropped.too_large`). The local API reports them
/// with a `runtime.` prefix next to the machine's own counters. A class because every component of
/// one runtime (sockets, timers, streams) increments the same set, all on the loop thread.
public final class RuntimeCounters {
    public private(set) var values: [String: UInt64] = [:]

    public init() {}

    public func increment(_ name: String, by amount: UInt64 = 1) {
        values[name, default: 0] &+= amount
    }

    public subscript(name: String) -> UInt64 { values[name] ?? 0 }
}
