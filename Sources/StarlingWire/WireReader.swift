/// Reads Starling's canonical binary encoding, refusing anything that is not canonical.
///
/// Every read is bounds-checked and throws `WireError` instead of trapping.
public struct WireReader: Sendable {
    public let bytes: [UInt8]
    public private(set) var offset: Int
    private let end: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
        self.end = bytes.count
    }

    public init<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        self.init(Array(bytes))
    }

    public var remaining: Int { end - offset }
    public var isAtEnd: Bool { offset == end }

    private mutating func need(_ count: Int) throws {
        guard count >= 0, remaining >= count else {
            throw WireError.truncated(offset: offset, needed: count - remaining)
        }
    }

    public mutating func readUInt8() throws -> UInt8 {
        try need(1)
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func readUInt16() throws -> UInt16 {
        try need(2)
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    public mutating func readUInt32() throws -> UInt32 {
        try need(4)
        var value: UInt32 = 0
        for index in offset..<(offset + 4) { value = value << 8 | UInt32(bytes[index]) }
        offset += 4
        return value
    }

    public mutating func readUInt64() throws -> UInt64 {
        try need(8)
        var value: UInt64 = 0
        for index in offset..<(offset + 8) { value = value << 8 | UInt64(bytes[index]) }
        offset += 8
        return value
    }

    public mutating func readBool(field: String = "bool") throws -> Bool {
        let byte = try readUInt8()
        switch byte {
        case 0: return false
        case 1: return true
        default: throw WireError.invalidValue(field: field, value: UInt64(byte))
        }
    }

    /// Unsigned LEB128; rejects overlong forms and values over 64 bits.
    public mutating func readVarint() throws -> UInt64 {
        let start = offset
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readUInt8()
            let payload = UInt64(byte & 0x7F)
            if shift == 63 && payload > 1 { throw WireError.varintOverflow(offset: start) }
            value |= payload << shift
            if byte & 0x80 == 0 {
                // A final zero group after the first byte means a shorter form existed.
                if byte == 0 && offset - start > 1 { throw WireError.nonCanonicalVarint(offset: start) }
                return value
            }
            shift += 7
            if shift > 63 { throw WireError.varintOverflow(offset: start) }
        }
    }

    /// A varint that must fit `limit`, returned as Int.
    public mutating func readCount(field: String, limit: Int) throws -> Int {
        let value = try readVarint()
        guard value <= UInt64(limit) else {
            throw WireError.limitExceeded(field: field, value: value, limit: limit)
        }
        return Int(value)
    }

    public mutating func readFixed(_ count: Int) throws -> [UInt8] {
        try need(count)
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    public mutating func readBytes(field: String, limit: Int = WireLimits.bytesFieldMax) throws -> [UInt8] {
        let count = try readCount(field: field, limit: limit)
        return try readFixed(count)
    }

    public mutating func readString(field: String, limit: Int = WireLimits.stringBytesMax) throws -> String {
        let raw = try readBytes(field: field, limit: limit)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw WireError.invalidUTF8(field: field)
        }
        return text
    }

    public mutating func read<T: WireDecodable>(_: T.Type = T.self) throws -> T {
        try T(from: &self)
    }

    public mutating func readList<T: WireDecodable>(
        _: T.Type = T.self, field: String, limit: Int = WireLimits.listCountMax
    ) throws -> [T] {
        let count = try readCount(field: field, limit: limit)
        // Every element takes at least one byte: refuse counts the input cannot hold before allocating.
        guard count <= remaining else { throw WireError.truncated(offset: offset, needed: count - remaining) }
        var values: [T] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try T(from: &self)) }
        return values
    }

    public mutating func readOptional<T: WireDecodable>(_: T.Type = T.self, field: String) throws -> T? {
        try readBool(field: field) ? try T(from: &self) : nil
    }

    /// Call after the last field: leftover bytes mean the encoding was not canonical.
    public func expectEnd() throws {
        guard isAtEnd else { throw WireError.trailingBytes(count: remaining) }
    }
}
