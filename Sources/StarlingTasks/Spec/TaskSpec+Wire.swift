import StarlingWire

/// The canonical bytes of a task spec: what the submitter signs and what the task id hashes.
extension TaskSpec: WireCodable {
    /// The first byte; a new version of the encoding gets a new number.
    public static let encodingVersion: UInt8 = 1

    enum KindTag: UInt64 {
        case federatedTask = 1, incrementalLearningJob = 2, jointInferenceService = 3
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(Self.encodingVersion)
        writer.writeString(name)
        writer.writeList(labels)
        writer.write(placement)
        writer.write(coordinator)
        switch kind {
        case let .federatedTask(spec):
            writer.writeVarint(KindTag.federatedTask.rawValue)
            writer.write(spec)
        case let .incrementalLearningJob(spec):
            writer.writeVarint(KindTag.incrementalLearningJob.rawValue)
            writer.write(spec)
        case let .jointInferenceService(spec):
            writer.writeVarint(KindTag.jointInferenceService.rawValue)
            writer.write(spec)
        }
    }

    public init(from reader: inout WireReader) throws {
        let version = try reader.readUInt8()
        guard version == Self.encodingVersion else { throw WireError.invalidValue(field: "task spec encoding version", value: UInt64(version)) }
        let name = try reader.readLabel("metadata.name")
        let labels = try reader.readSortedList(TaskTag.self, field: "metadata.labels", limit: TaskSpecLimits.tagsMax, key: \.key)
        let placement = try reader.read(Placement.self)
        let coordinator = try reader.read(Placement.self)
        let tag = try reader.readVarint()
        let kind: Kind
        switch KindTag(rawValue: tag) {
        case .federatedTask: kind = .federatedTask(try reader.read())
        case .incrementalLearningJob: kind = .incrementalLearningJob(try reader.read())
        case .jointInferenceService: kind = .jointInferenceService(try reader.read())
        case nil: throw WireError.invalidValue(field: "task kind", value: tag)
        }
        self.init(name: name, labels: labels, placement: placement, coordinator: coordinator, kind: kind)
    }
}

extension TaskTag: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeString(key)
        writer.writeString(value)
    }

    public init(from reader: inout WireReader) throws {
        let key = try reader.readText("tag key", limit: TaskSpecLimits.tagBytesMax)
        // A tag value may be empty (`zone: ""`).
        let value = try reader.readString(field: "tag value", limit: TaskSpecLimits.tagBytesMax)
        guard ScalarText.isPrintable(value) else { throw WireError.invalidField("tag value has control characters") }
        self.init(key, value)
    }
}

extension Placement: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeList(tags)
    }

    public init(from reader: inout WireReader) throws {
        self.init(tags: try reader.readSortedList(TaskTag.self, field: "placement tags", limit: TaskSpecLimits.tagsMax, key: \.key))
    }
}
