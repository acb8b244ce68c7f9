import StarlingCrypto
import StarlingTrust
import StarlingWire

extension JobTransition: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeVarint(epoch)
        writer.writeVarint(round)
        writer.writeVarint(cycle)
        writer.writeVarint(at)
        writer.write(step)
    }

    public init(from reader: inout WireReader) throws {
        let epoch = try reader.readPositive("job step epoch")
        let round = try reader.readPositive("job step round", max: TaskStateLimits.roundMax)
        let cycle = try reader.readVarint()
        let at = try reader.readVarint()
        self.init(epoch: epoch, round: round, cycle: cycle, step: try reader.read(), at: at)
    }
}

extension JobStep: WireCodable {
    private enum Tag: UInt8 {
        case deployed = 1, rolledBack = 2, rollbackRefused = 3, training = 4, evaluating = 5, deciding = 6, notDeployed = 7,
             failed = 8
    }

    public func encode(to writer: inout WireWriter) {
        switch self {
        case let .deployed(version):
            writer.write(Tag.deployed.rawValue)
            writer.write(version)
        case let .rolledBack(to, request):
            writer.write(Tag.rolledBack.rawValue)
            writer.writeVarint(to)
            writer.writeHash(request)
        case let .rollbackRefused(request, reason):
            writer.write(Tag.rollbackRefused.rawValue)
            writer.writeHash(request)
            writer.writeString(reason)
        case let .training(work):
            writer.write(Tag.training.rawValue)
            writer.write(work)
        case let .evaluating(candidate, work):
            writer.write(Tag.evaluating.rawValue)
            writer.writeHash(candidate)
            writer.write(work)
        case let .deciding(evaluation):
            writer.write(Tag.deciding.rawValue)
            writer.write(evaluation)
        case let .notDeployed(reason):
            writer.write(Tag.notDeployed.rawValue)
            writer.writeString(reason)
        case let .failed(stage, reason):
            writer.write(Tag.failed.rawValue)
            writer.write(stage)
            writer.writeString(reason)
        }
    }

    public init(from reader: inout WireReader) throws {
        let raw = try reader.readUInt8()
        guard let tag = Tag(rawValue: raw) else { throw WireError.invalidValue(field: "job step", value: UInt64(raw)) }
        switch tag {
        case .deployed: self = .deployed(try reader.read())
        case .rolledBack: self = .rolledBack(to: try reader.readPositive("rollback version"), request: try reader.readHash())
        case .rollbackRefused: self = .rollbackRefused(request: try reader.readHash(), reason: try reader.readReason("rollback refusal"))
        case .training: self = .training(try reader.read())
        case .evaluating: self = .evaluating(candidate: try reader.readHash(), work: try reader.read())
        case .deciding: self = .deciding(try reader.read())
        case .notDeployed: self = .notDeployed(reason: try reader.readReason("not-deployed reason"))
        case .failed: self = .failed(stage: try reader.read(), reason: try reader.readReason("stage failure"))
        }
    }
}

extension JobStage: WireCodable {
    private static let order: [JobStage] = [.train, .eval, .deploy]

    public func encode(to writer: inout WireWriter) {
        writer.write(UInt8(Self.order.firstIndex(of: self) ?? 0))
    }

    public init(from reader: inout WireReader) throws {
        let raw = try reader.readUInt8()
        guard Int(raw) < Self.order.count else { throw WireError.invalidValue(field: "job stage", value: UInt64(raw)) }
        self = Self.order[Int(raw)]
    }
}

extension StageWork: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeVarint(baseVersion)
        writer.writeHash(base)
        writer.writeList(peers)
        writer.writeVarint(rows.count)
        for count in rows { writer.writeVarint(count) }
        writer.writeVarint(newSamples)
    }

    public init(from reader: inout WireReader) throws {
        let baseVersion = try reader.readPositive("stage base version")
        let base = try reader.readHash()
        let peers = try reader.readList(NodeID.self, field: "stage peers", limit: TaskStateLimits.stagePeersMax)
        for index in peers.indices.dropFirst() where peers[index - 1] >= peers[index] {
            throw WireError.invalidField("stage peers are not sorted and unique")
        }
        let count = try reader.readCount(field: "stage rows", limit: TaskStateLimits.stagePeersMax)
        guard count == peers.count else { throw WireError.invalidField("stage rows: \(count) counts for \(peers.count) peers") }
        var rows: [UInt64] = []
        for _ in 0..<count { rows.append(try reader.readVarint()) }
        self.init(baseVersion: baseVersion, base: base, peers: peers, rows: rows, newSamples: try reader.readVarint())
    }
}

extension ConfusionMatrix: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeVarint(classes)
        for count in counts { writer.writeVarint(count) }
    }

    public init(from reader: inout WireReader) throws {
        let classes = try reader.readCount(field: "confusion classes", limit: TaskStateLimits.evaluationClassesMax)
        var counts: [UInt64] = []
        counts.reserveCapacity(classes * classes)
        for _ in 0..<(classes * classes) { counts.append(try reader.readVarint()) }
        self.init(classes: classes, counts: counts)
    }
}

extension Evaluation: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.write(candidate)
        writer.write(deployed)
    }

    public init(from reader: inout WireReader) throws {
        self.init(candidate: try reader.read(), deployed: try reader.read())
    }
}

extension ModelVersion: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeVarint(version)
        writer.writeHash(model)
        writer.writeVarint(parent)
        writer.writeVarint(cycle)
        writer.writeVarint(trainSamples)
        writer.writeVarint(evalSamples)
        writer.writeOptional(evaluation)
    }

    public init(from reader: inout WireReader) throws {
        let version = try reader.readPositive("model version", max: TaskStateLimits.roundMax)
        let model = try reader.readHash()
        let parent = try reader.readVarint()
        let cycle = try reader.readVarint()
        let trainSamples = try reader.readVarint()
        let evalSamples = try reader.readVarint()
        self.init(version: version, model: model, parent: parent, cycle: cycle, trainSamples: trainSamples,
                  evalSamples: evalSamples, evaluation: try reader.readOptional(Evaluation.self, field: "version evaluation"))
    }
}

extension StageResult: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.write(peer)
        writer.writeVarint(round)
        switch outcome {
        case let .trained(update):
            writer.write(UInt8(1))
            writer.write(update)
        case let .evaluated(evaluation):
            writer.write(UInt8(2))
            writer.write(evaluation)
        case let .failed(reason):
            writer.write(UInt8(3))
            writer.writeString(reason)
        }
    }

    public init(from reader: inout WireReader) throws {
        let peer = try reader.read(NodeID.self)
        let round = try reader.readPositive("stage result round", max: TaskStateLimits.roundMax)
        let tag = try reader.readUInt8()
        let outcome: Outcome
        switch tag {
        case 1: outcome = .trained(try reader.read())
        case 2: outcome = .evaluated(try reader.read())
        case 3: outcome = .failed(try reader.readReason("stage result failure"))
        default: throw WireError.invalidValue(field: "stage result", value: UInt64(tag))
        }
        self.init(peer: peer, round: round, outcome: outcome)
    }
}

extension RollbackRequest: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeVarint(version)
        writer.writeVarint(requestedAt)
    }

    public init(from reader: inout WireReader) throws {
        self.init(version: try reader.readVarint(), requestedAt: try reader.readVarint())
    }
}

extension WireReader {
    /// A reason of up to `TaskStateLimits.failureBytesMax` printable bytes.
    mutating func readReason(_ field: String) throws -> String {
        let text = try readString(field: field, limit: TaskStateLimits.failureBytesMax)
        guard ScalarText.isPrintable(text) else { throw WireError.invalidField("\(field) has control characters") }
        return text
    }
}
