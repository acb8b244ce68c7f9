import StarlingTestSupport
import StarlingWire
import Testing

/// A record with one field of every kind the codec has, for truncation, canonicality and property
/// tests of `WireReader`/`WireWriter` that do not depend on any real message type.
struct Sample: WireCodable, Equatable {
    var small: UInt8 = 0
    var short: UInt16 = 0
    var medium: UInt32 = 0
    var large: UInt64 = 0
    var flag: Bool = false
    var count: UInt64 = 0
    var name: String = ""
    var blob: [UInt8] = []
    /// Always `Sample.digestByteCount` bytes, written without a length.
    var digest: [UInt8] = [UInt8](repeating: 0, count: Sample.digestByteCount)
    var items: [Item] = []
    var extra: Item? = nil

    static let digestByteCount = 4
    static let itemCountMax = 8

    func encode(to writer: inout WireWriter) {
        writer.write(small)
        writer.write(short)
        writer.write(medium)
        writer.write(large)
        writer.write(flag)
        writer.writeVarint(count)
        writer.writeString(name)
        writer.writeBytes(blob)
        writer.writeFixed(digest)
        writer.writeList(items)
        writer.writeOptional(extra)
    }

    init() {}

    init(from reader: inout WireReader) throws {
        small = try reader.readUInt8()
        short = try reader.readUInt16()
        medium = try reader.readUInt32()
        large = try reader.readUInt64()
        flag = try reader.readBool(field: "flag")
        count = try reader.readVarint()
        name = try reader.readString(field: "name")
        blob = try reader.readBytes(field: "blob", limit: 64)
        digest = try reader.readFixed(Self.digestByteCount)
        items = try reader.readList(field: "items", limit: Self.itemCountMax)
        extra = try reader.readOptional(field: "extra")
    }
}

struct Item: WireCodable, Equatable {
    var id: UInt64
    var label: String

    func encode(to writer: inout WireWriter) {
        writer.writeVarint(id)
        writer.writeString(label)
    }

    init(id: UInt64, label: String) {
        self.id = id
        self.label = label
    }

    init(from reader: inout WireReader) throws {
        id = try reader.readVarint()
        label = try reader.readString(field: "label", limit: 32)
    }
}

/// One byte, for list-limit tests that need many cheap elements.
struct Byte: WireCodable, Equatable {
    var value: UInt8
    init(_ value: UInt8) { self.value = value }
    func encode(to writer: inout WireWriter) { writer.write(value) }
    init(from reader: inout WireReader) throws { value = try reader.readUInt8() }
}

/// SplitMix64. StarlingWire does not depend on StarlingCrypto, so its tests cannot use
/// `DeterministicRandom`; this is the same seeding function, good enough for test data.
struct TestRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }

    /// Mostly small numbers, sometimes large ones, so every varint length shows up.
    mutating func varintValue() -> UInt64 {
        let bits = Int.random(in: 0...64, using: &self)
        if bits == 0 { return 0 }
        return UInt64.random(in: 0...UInt64.max, using: &self) >> UInt64(64 - bits)
    }

    /// Text mixing 1- to 4-byte UTF-8 sequences.
    mutating func text(maxScalars: Int) -> String {
        let pool: [Unicode.Scalar] = ["a", "Z", "0", "-", " ", "é", "ß", "Ω", "€", "中", "🐦", "\u{0}", "\u{10FFFF}"]
        var result = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...maxScalars, using: &self) { result.append(pool.randomElement(using: &self)!) }
        return String(result)
    }

    mutating func sample() -> Sample {
        var value = Sample()
        value.small = .random(in: 0...255, using: &self)
        value.short = .random(in: 0...UInt16.max, using: &self)
        value.medium = .random(in: 0...UInt32.max, using: &self)
        value.large = .random(in: 0...UInt64.max, using: &self)
        value.flag = .random(using: &self)
        value.count = varintValue()
        value.name = text(maxScalars: 12)
        value.blob = bytes(Int.random(in: 0...64, using: &self))
        value.digest = bytes(Sample.digestByteCount)
        value.items = (0..<Int.random(in: 0...Sample.itemCountMax, using: &self)).map { _ in
            Item(id: varintValue(), label: text(maxScalars: 6))
        }
        value.extra = Bool.random(using: &self) ? Item(id: varintValue(), label: text(maxScalars: 6)) : nil
        return value
    }
}

/// Runs `body`, which must throw a `WireError`, and returns it (nil after recording an issue).
func expectWireError(
    _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation
) -> WireError? {
    do {
        try body()
        Issue.record("expected a WireError, but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as WireError {
        return error
    } catch {
        Issue.record("expected a WireError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

func isTruncation(_ error: WireError?) -> Bool {
    if case .truncated = error { return true }
    return false
}

