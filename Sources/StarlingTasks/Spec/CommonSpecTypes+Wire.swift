import StarlingLearning
import StarlingWire

extension DatasetRef: WireCodable {
    public func encode(to writer: inout WireWriter) { writer.writeString(name) }

    public init(from reader: inout WireReader) throws { self.init(name: try reader.readText("dataset name")) }
}

extension ModelRef: WireCodable {
    public func encode(to writer: inout WireWriter) { writer.writeString(name) }

    public init(from reader: inout WireReader) throws { self.init(name: try reader.readText("model name")) }
}

extension ScriptSpec: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeOptionalString(directory)
        writer.write(bootFile)
        writer.writeOptionalString(frameworkType)
        writer.writeOptionalString(frameworkVersion)
    }

    public init(from reader: inout WireReader) throws {
        let directory = try reader.readOptionalText("script directory")
        let bootFile = try reader.read(BootFile.self)
        if case let .python(path) = bootFile, !path.hasPrefix("/"), directory == nil {
            throw WireError.invalidField("a relative boot file needs a script directory")
        }
        if case let .executable(path) = bootFile, !path.hasPrefix("/"), directory == nil {
            throw WireError.invalidField("a relative boot file needs a script directory")
        }
        self.init(directory: directory, bootFile: bootFile,
                  frameworkType: try reader.readOptionalText("frameworkType"),
                  frameworkVersion: try reader.readOptionalText("frameworkVersion"))
    }
}

extension BootFile: WireCodable {
    enum Tag: UInt8 { case builtin = 1, python = 2, executable = 3 }

    public func encode(to writer: inout WireWriter) {
        switch self {
        case let .builtin(worker):
            writer.write(Tag.builtin.rawValue)
            writer.writeString(worker.rawValue)
        case let .python(path):
            writer.write(Tag.python.rawValue)
            writer.writeString(path)
        case let .executable(path):
            writer.write(Tag.executable.rawValue)
            writer.writeString(path)
        }
    }

    public init(from reader: inout WireReader) throws {
        let tag = try reader.readUInt8()
        switch Tag(rawValue: tag) {
        case .builtin:
            let name = try reader.readString(field: "built-in worker")
            guard let worker = BuiltinWorker(rawValue: name) else { throw WireError.invalidField("unknown built-in worker \(name.clipped)") }
            self = .builtin(worker)
        case .python:
            let path = try reader.readText("boot file")
            // The kind follows from the text: one encoding per value.
            guard path.hasSuffix(".py"), !path.hasPrefix(BuiltinWorker.prefix) else { throw WireError.invalidField("a Python boot file ends in .py") }
            self = .python(path: path)
        case .executable:
            let path = try reader.readText("boot file")
            guard !path.hasSuffix(".py"), !path.hasPrefix(BuiltinWorker.prefix) else { throw WireError.invalidField("boot file kind does not match its path") }
            self = .executable(path: path)
        case nil:
            throw WireError.invalidValue(field: "boot file kind", value: UInt64(tag))
        }
    }
}

extension Parameter: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeString(key)
        writer.writeOptionalString(value)
    }

    public init(from reader: inout WireReader) throws {
        let key = try reader.readText("parameter key", limit: TaskSpecLimits.tagBytesMax)
        let value: String?
        if try reader.readBool(field: "parameter value") {
            // A value may be empty (`value: ""`); it is still text without control characters.
            let text = try reader.readString(field: "parameter value", limit: TaskSpecLimits.stringBytesMax)
            guard ScalarText.isPrintable(text) else { throw WireError.invalidField("parameter value has control characters") }
            value = text
        } else {
            value = nil
        }
        self.init(key: key, value: value)
    }
}

extension WorkerSpec: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.write(script)
        writer.writeList(parameters)
    }

    public init(from reader: inout WireReader) throws {
        self.init(script: try reader.read(), parameters: try reader.readParameters("worker parameters"))
    }
}

extension HardExampleMining: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.writeString(name)
        writer.writeList(parameters)
    }

    public init(from reader: inout WireReader) throws {
        self.init(name: try reader.readText("hard example mining name"), parameters: try reader.readParameters("hard example mining parameters"))
    }
}

extension WireReader {
    mutating func readParameters(_ field: String) throws -> [Parameter] {
        try readSortedList(Parameter.self, field: field, limit: TaskSpecLimits.parametersMax, key: \.key)
    }
}
