/// The heartbeat fake's datagram: kind (1 ping, 2 ack), then entries of 21 bytes:
/// member number (4) | incarnation (8) | heartbeat (8) | leaving (1). The first entry is the sender.
struct HeartbeatMessage {
    struct Entry {
        var member: UInt32
        var incarnation: UInt64
        var heartbeat: UInt64
        var leaving: Bool
    }

    static let entryBytes = 21

    var isPing: Bool
    var entries: [Entry]

    init(isPing: Bool, entries: [Entry]) {
        self.isPing = isPing
        self.entries = entries
    }

    func encoded() -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(1 + entries.count * Self.entryBytes)
        bytes.append(isPing ? 1 : 2)
        for entry in entries {
            append(UInt64(entry.member), width: 4, to: &bytes)
            append(entry.incarnation, width: 8, to: &bytes)
            append(entry.heartbeat, width: 8, to: &bytes)
            bytes.append(entry.leaving ? 1 : 0)
        }
        return bytes
    }

    private func append(_ value: UInt64, width: Int, to bytes: inout [UInt8]) {
        for shift in stride(from: (width - 1) * 8, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    /// Nil for anything malformed.
    init?(decoding bytes: [UInt8]) {
        guard let kind = bytes.first, kind == 1 || kind == 2, (bytes.count - 1) % Self.entryBytes == 0 else { return nil }
        isPing = kind == 1
        entries = []
        entries.reserveCapacity((bytes.count - 1) / Self.entryBytes)
        var offset = 1
        func read(_ width: Int) -> UInt64 {
            var value: UInt64 = 0
            for _ in 0..<width {
                value = value << 8 | UInt64(bytes[offset])
                offset += 1
            }
            return value
        }
        while offset < bytes.count {
            let member = UInt32(read(4)), incarnation = read(8), heartbeat = read(8), leaving = read(1)
            guard leaving <= 1 else { return nil }
            entries.append(Entry(member: member, incarnation: incarnation, heartbeat: heartbeat, leaving: leaving == 1))
        }
    }
}
