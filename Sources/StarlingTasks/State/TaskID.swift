import StarlingCrypto
import StarlingWire

/// A task's identity: the BLAKE2b-256 hash of its whole encoded `SignedTaskSpec` (spec, submitter,
/// submission time and signature), so the same spec submitted twice is two tasks, and nobody can
/// make a second task with the id of the first.
public struct TaskID: Hashable, Sendable, Comparable, CustomStringConvertible, WireCodable {
    public let hash: ContentHash

    public init(hash: ContentHash) { self.hash = hash }

    /// Parses the text form: 64 hex characters.
    public init(text: String) throws {
        guard text.utf8.count == ContentHash.byteCount * 2, let bytes = try? Hex.decode(text) else {
            throw WireError.invalidField("a task id is 64 hex characters")
        }
        hash = try ContentHash(bytes: bytes)
    }

    /// 64 lowercase hex characters.
    public var text: String { hash.hex }
    public var description: String { text }
    /// The first 8 hex characters, for log lines and tables.
    public var short: String { String(text.prefix(8)) }

    public static func < (left: TaskID, right: TaskID) -> Bool { left.hash < right.hash }

    public func encode(to writer: inout WireWriter) { writer.writeHash(hash) }
    public init(from reader: inout WireReader) throws { hash = try reader.readHash() }
}
