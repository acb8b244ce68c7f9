import StarlingWire

/// The canonical encoding of a whole task state: the signed spec, then the entries sorted by hash.
/// Two peers holding the same set of entries produce the same bytes. Decoding checks the order and
/// the dominance rules but not signatures: it is for a peer's own store, whose entries were verified
/// when they were merged. Entries from other peers go through `merge`.
extension TaskState: WireCodable {
    public func encode(to writer: inout WireWriter) {
        writer.write(signedSpec)
        writer.writeList(entries)
    }

    public init(from reader: inout WireReader) throws {
        let spec = try reader.read(SignedTaskSpec.self)
        let entries = try reader.readList(TaskEntry.self, field: "task entries", limit: TaskStateLimits.entriesMax)
        var state = TaskState(spec: spec)
        for (index, entry) in entries.enumerated() {
            if index > 0, !(entries[index - 1].hash < entry.hash) {
                throw WireError.invalidField("task entries are not sorted by hash")
            }
            guard entry.task == spec.id else { throw WireError.invalidField("a task entry names another task") }
            guard state.insert(entry) == .added else { throw WireError.invalidField("a task entry is superseded by another") }
        }
        self = state
    }
}
