import StarlingCrypto
import StarlingTrust
import StarlingWire

/// The canonical encodings of a FederatedTask's entry bodies (sets sorted, keys unique; the
/// reader refuses anything else).
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
