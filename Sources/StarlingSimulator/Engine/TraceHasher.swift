/// A running 64-bit hash of everything a run delivers to machines (time, node, input, bytes).
/// Two runs with equal hashes saw the same events in the same order at the same times.
public struct TraceHasher: Sendable {
    public private(set) var value: UInt64 = 0x243F_6A88_85A3_08D3

    public init() {}

    @inline(__always)
    public mutating func mix(_ word: UInt64) {
        value = (value ^ (word &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9
        value ^= value >> 29
    }

    public mutating func mix(_ bytes: [UInt8]) {
        mix(UInt64(bytes.count))
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset + 8 <= raw.count {
                mix(raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                offset += 8
            }
            var tail: UInt64 = 0
            while offset < raw.count {
                tail = tail << 8 | UInt64(raw[offset])
                offset += 1
            }
            mix(tail)
        }
    }

    public mutating func mix(_ text: String) { mix(Array(text.utf8)) }

    public var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
