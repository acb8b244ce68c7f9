import StarlingStore
import StarlingTasks

extension DatasetTags {
    /// The tags that declare registered datasets: what a peer gossips of them (at start and
    /// whenever one is added or removed).
    public static func tags(declaring records: [DatasetRecord]) -> [String: String] {
        var tags: [String: String] = [:]
        for record in records {
            tags[key(record.name)] = value(Declared(name: record.name, format: record.format, bytes: record.bytes,
                                                    samples: record.samples))
        }
        return tags
    }
}
