/// Every size limit of a task spec, in one place.
///
/// A spec arrives from a user or from gossip, is signed, stored and replicated to every peer, so
/// everything in it is bounded: a hostile or careless file cannot make a peer allocate without limit.
public enum TaskSpecLimits {
    /// Largest spec file, in bytes, before parsing.
    public static let specBytesMax = 64 * 1024
    /// Most YAML nodes (mappings, lists, scalars) after aliases are expanded: refuses alias bombs.
    public static let nodesMax = 20_000
    /// Deepest nesting of mappings and lists.
    public static let depthMax = 32
    /// Most training workers in one task.
    public static let workersMax = 1_000
    /// Most parameters in one `parameters` list.
    public static let parametersMax = 64
    /// Longest text value (paths, parameter values, names that are not DNS labels), in UTF-8 bytes.
    public static let stringBytesMax = 1_024
    /// Longest DNS-1123 label (metadata.name, worker names).
    public static let labelBytesMax = 63
    /// Most labels in metadata.labels and most tags in one tag selector.
    public static let tagsMax = 32
    /// Longest tag or label key or value, in UTF-8 bytes (as membership tags).
    public static let tagBytesMax = 255
    /// Most issues reported for one file; the rest are summarised in one last issue.
    public static let issuesMax = 200
    /// Most federated rounds.
    public static let roundsMax = 1_000_000
    /// Longest round timeout.
    public static let roundTimeoutMax: Duration = .seconds(7 * 86_400)
    /// Shortest round timeout.
    public static let roundTimeoutMin: Duration = .seconds(1)
    /// Most re-announcements of one round (`round_retries`).
    public static let roundRetriesMax = 1_000
}
