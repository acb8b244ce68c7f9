import StarlingCrypto
import StarlingTrust
import StarlingWire

/// The canonical encoding of entry bodies: a kind byte, then the body's fields. Sets (participants,
/// metrics) are sorted with unique keys and the reader refuses anything else, so "decode, then
/// encode" gives back the signed bytes. Rules that relate fields to each other or to the author
/// (an epoch above its base's, a holder equal to the author) are checked by `TaskEntry.problem`.
extension TaskEntryBody: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.write(kind.rawValue)
        switch self {
        case let .lease(lease): writer.write(lease)
        case let .cancel(reason): writer.writeString(reason)
        case let .complete(ref), let .replicated(ref): writer.write(ref)
        case let .fail(failure): writer.write(failure)
        case let .program(entry): entry.encode(to: &writer)
        }
    }

    public init(from reader: inout WireReader) throws {
        let tag = try reader.readUInt8()
        switch TaskEntryKind(rawValue: tag) {
        case .lease: self = .lease(try reader.read())
        case .cancel: self = .cancel(reason: try reader.readMessage("cancel reason"))
        case .complete: self = .complete(try reader.read())
        case .replicated: self = .replicated(try reader.read())
        case .fail: self = .fail(try reader.read())
        case let kind?: self = .program(try ProgramEntry.decode(kind, from: &reader))
        case nil: throw WireError.invalidValue(field: "task entry kind", value: UInt64(tag))
        }
    }
}

extension TaskFailure: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeVarint(epoch)
        writer.writeVarint(round)
        writer.writeString(reason)
    }

    public init(from reader: inout WireReader) throws {
        let epoch = try reader.readPositive("failure epoch")
        let round = try reader.readPositive("failure round", max: TaskStateLimits.roundMax)
        let reason = try reader.readString(field: "failure reason", limit: TaskStateLimits.failureBytesMax)
        guard ScalarText.isPrintable(reason) else { throw WireError.invalidField("failure reason has control characters") }
        self.init(epoch: epoch, round: round, reason: reason)
    }
}

extension CommitRef: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeVarint(epoch)
        writer.writeVarint(round)
        writer.writeHash(modelHash)
    }

    public init(from reader: inout WireReader) throws {
        let epoch = try reader.readPositive("commit epoch")
        let round = try reader.readPositive("commit round", max: TaskStateLimits.roundMax)
        self.init(epoch: epoch, round: round, modelHash: try reader.readHash())
    }
}

extension Lease: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeVarint(epoch)
        writer.write(holder)
        writer.writeOptional(base)
        writer.writeVarint(expiresAt)
        writer.writeVarint(UInt64(renewal))
        // The raw bits, never a trap: a lease built with a capacity that is not a positive number
        // can still be signed, and is then refused by `TaskEntry.problem` and by every decoder.
        writer.write(capacity.bitPattern)
    }

    public init(from reader: inout WireReader) throws {
        let epoch = try reader.readPositive("lease epoch")
        let holder = try reader.read(NodeID.self)
        let base = try reader.readOptional(CommitRef.self, field: "lease base")
        let expiresAt = try reader.readVarint()
        let renewal = try reader.readVarint()
        guard renewal <= UInt64(UInt32.max) else { throw WireError.invalidValue(field: "lease renewal", value: renewal) }
        let capacity = try reader.readReal("lease capacity")
        self.init(epoch: epoch, holder: holder, base: base, expiresAt: expiresAt, renewal: UInt32(renewal), capacity: capacity)
    }
}
