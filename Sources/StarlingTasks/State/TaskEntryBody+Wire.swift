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
        case let .announce(announcement): writer.write(announcement)
        case let .commit(commit): writer.write(commit)
        case let .report(report): writer.write(report)
        case let .cancel(reason): writer.writeString(reason)
        case let .complete(ref), let .replicated(ref): writer.write(ref)
        case let .fail(failure): writer.write(failure)
        }
    }

    public init(from reader: inout WireReader) throws {
        let tag = try reader.readUInt8()
        switch TaskEntryKind(rawValue: tag) {
        case .lease: self = .lease(try reader.read())
        case .announce: self = .announce(try reader.read())
        case .commit: self = .commit(try reader.read())
        case .report: self = .report(try reader.read())
        case .cancel: self = .cancel(reason: try reader.readMessage("cancel reason"))
        case .complete: self = .complete(try reader.read())
        case .replicated: self = .replicated(try reader.read())
        case .fail: self = .fail(try reader.read())
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

extension Participant: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeString(worker)
        writer.write(node)
    }

    public init(from reader: inout WireReader) throws {
        let worker = try reader.readLabel("participant worker")
        self.init(worker: worker, node: try reader.read(NodeID.self))
    }
}

extension RoundAnnouncement: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeVarint(epoch)
        writer.writeVarint(round)
        writer.writeHash(baseModel)
        writer.writeList(participants)
        writer.writeVarint(deadline)
    }

    public init(from reader: inout WireReader) throws {
        let epoch = try reader.readPositive("announce epoch")
        let round = try reader.readPositive("announce round", max: TaskStateLimits.roundMax)
        let baseModel = try reader.readHash()
        let participants = try reader.readSortedList(
            Participant.self, field: "announce participants", limit: TaskStateLimits.participantsMax, key: \.worker)
        let deadline = try reader.readVarint()
        self.init(epoch: epoch, round: round, baseModel: baseModel, participants: participants, deadline: deadline)
    }
}

extension Metric: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeString(name)
        writer.writeReal(value)
    }

    public init(from reader: inout WireReader) throws {
        let name = try reader.readText("metric name", limit: TaskStateLimits.metricNameBytesMax)
        try self.init(name: name, value: reader.readReal("metric value"))
    }
}

extension RoundCommit: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeVarint(epoch)
        writer.writeVarint(round)
        writer.writeHash(modelHash)
        writer.writeVarint(participants.count)
        for worker in participants { writer.writeString(worker) }
        writer.writeVarint(sampleCount)
        writer.writeList(metrics)
    }

    public init(from reader: inout WireReader) throws {
        let epoch = try reader.readPositive("commit epoch")
        let round = try reader.readPositive("commit round", max: TaskStateLimits.roundMax)
        let modelHash = try reader.readHash()
        let count = try reader.readCount(field: "commit participants", limit: TaskStateLimits.participantsMax)
        var participants: [String] = []
        participants.reserveCapacity(min(count, reader.remaining))
        for _ in 0..<count {
            let worker = try reader.readLabel("commit participant")
            if let last = participants.last, last >= worker {
                throw WireError.invalidField("commit participants are not sorted and unique")
            }
            participants.append(worker)
        }
        let sampleCount = try reader.readVarint()
        let metrics = try reader.readSortedList(Metric.self, field: "commit metrics", limit: TaskStateLimits.metricsMax, key: \.name)
        self.init(epoch: epoch, round: round, modelHash: modelHash, participants: participants,
                  sampleCount: sampleCount, metrics: metrics)
    }
}

extension UpdateRef: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeHash(hash)
        writer.writeVarint(sampleCount)
    }

    public init(from reader: inout WireReader) throws {
        let hash = try reader.readHash()
        self.init(hash: hash, sampleCount: try reader.readVarint())
    }
}

extension WorkerReport: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeString(worker)
        writer.writeVarint(epoch)
        writer.writeVarint(round)
        writer.write(state.rawValue)
        writer.writeString(message)
        writer.writeOptional(update)
    }

    public init(from reader: inout WireReader) throws {
        let worker = try reader.readLabel("report worker")
        let epoch = try reader.readVarint()
        let round = try reader.readVarint()
        guard round <= TaskStateLimits.roundMax else { throw WireError.invalidValue(field: "report round", value: round) }
        let raw = try reader.readUInt8()
        guard let state = WorkerState(rawValue: raw) else { throw WireError.invalidValue(field: "worker state", value: UInt64(raw)) }
        let message = try reader.readMessage("report message")
        let update = try reader.readOptional(UpdateRef.self, field: "report update")
        self.init(worker: worker, epoch: epoch, round: round, state: state, message: message, update: update)
    }
}
