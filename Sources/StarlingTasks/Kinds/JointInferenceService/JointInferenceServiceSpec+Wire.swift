import StarlingWire

extension JointInferenceServiceSpec: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.write(edgeWorker)
        writer.write(cloudWorker)
    }

    public init(from reader: inout WireReader) throws {
        self.init(edgeWorker: try reader.read(), cloudWorker: try reader.read())
    }
}

extension EdgeInferenceWorker: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.write(model)
        writer.writeOptionalString(nodeName)
        writer.write(hardExampleMining)
        writer.write(workerSpec)
    }

    public init(from reader: inout WireReader) throws {
        self.init(model: try reader.read(), nodeName: try reader.readOptionalText("nodeName", limit: TaskSpecLimits.tagBytesMax),
                  hardExampleMining: try reader.read(), workerSpec: try reader.read())
    }
}

extension CloudInferenceWorker: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.write(model)
        writer.writeOptionalString(nodeName)
        writer.write(workerSpec)
    }

    public init(from reader: inout WireReader) throws {
        self.init(model: try reader.read(), nodeName: try reader.readOptionalText("nodeName", limit: TaskSpecLimits.tagBytesMax),
                  workerSpec: try reader.read())
    }
}
