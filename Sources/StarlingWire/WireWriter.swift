/// Appends Starling's canonical binary encoding to a byte buffer.
///
/// Integers are big-endian when fixed-width and unsigned LEB128 (shortest form) when variable;
/// byte strings and text carry a varint length. There is exactly one encoding of every value, which
/// is what makes "the bytes that were signed" well-defined.
public struct WireWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func write(_ value: UInt8) { bytes.append(value) }

    public mutating func write(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    public mutating func write(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
        }
    }

    public mutating func write(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    public mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }

    /// Unsigned LEB128, shortest form.
    public mutating func writeVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    public mutating func writeVarint(_ value: Int) {
        precondition(value >= 0, "varints are unsigned")
        writeVarint(UInt64(value))
    }

    /// Bytes whose length both sides know (keys, hashes, signatures): no length prefix.
    public mutating func writeFixed<C: Collection>(_ data: C) where C.Element == UInt8 {
        bytes.append(contentsOf: data)
    }

    /// Length-prefixed bytes.
    public mutating func writeBytes<C: Collection>(_ data: C) where C.Element == UInt8 {
        writeVarint(data.count)
        bytes.append(contentsOf: data)
    }

    /// Length-prefixed UTF-8 text.
    public mutating func writeString(_ text: String) {
        writeBytes(Array(text.utf8))
    }

    public mutating func write<T: WireEncodable>(_ value: T) {
        value.encode(to: &self)
    }

    /// A count followed by each element.
    public mutating func writeList<T: WireEncodable>(_ values: [T]) {
        writeVarint(values.count)
        for value in values { value.encode(to: &self) }
    }

    /// A presence byte followed by the value when present.
    public mutating func writeOptional<T: WireEncodable>(_ value: T?) {
        if let value {
            write(true)
            value.encode(to: &self)
        } else {
            write(false)
        }
    }
}
