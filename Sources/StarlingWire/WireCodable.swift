/// A value with one canonical binary encoding.
public protocol WireEncodable {
    func encode(to writer: inout WireWriter)
}

public protocol WireDecodable {
    init(from reader: inout WireReader) throws
}

public typealias WireCodable = WireEncodable & WireDecodable

extension WireEncodable {
    /// The canonical bytes of this value.
    public var wireBytes: [UInt8] {
        var writer = WireWriter()
        encode(to: &writer)
        return writer.bytes
    }
}

extension WireDecodable {
    /// Decodes exactly one value from `bytes`; trailing bytes are an error.
    public init<C: Collection>(wireBytes bytes: C) throws where C.Element == UInt8 {
        var reader = WireReader(bytes)
        self = try Self(from: &reader)
        try reader.expectEnd()
    }
}
