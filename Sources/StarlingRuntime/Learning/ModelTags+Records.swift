import StarlingStore
import StarlingTasks

extension ModelTags {
    /// The tags that declare imported models: what a peer gossips of them (at start and whenever
    /// one is imported or removed). A record whose hash does not parse declares nothing.
    public static func tags(declaring records: [ImportedModelRecord]) -> [String: String] {
        var tags: [String: String] = [:]
        for record in records where parse(record.hash) != nil { tags[tag(for: record.name)] = record.hash }
        return tags
    }
}
