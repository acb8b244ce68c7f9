/// How a peer declares the datasets it holds: one membership tag per dataset,
/// `dataset.<name>` = `<format>,<bytes>,<samples>` (for example `dataset.digits-0` = `csv,52311,287`).
/// Only these figures are gossiped, never a row. Placement by dataset reads them.
public enum DatasetTags {
    public static let prefix = "dataset."
    /// Datasets a peer may declare (membership allows 16 tags in all).
    public static let datasetsMax = 8

    public struct Declared: Sendable, Equatable {
        public let name: String
        public let format: String
        public let bytes: UInt64
        public let samples: UInt64

        public init(name: String, format: String, bytes: UInt64, samples: UInt64) {
            self.name = name
            self.format = format
            self.bytes = bytes
            self.samples = samples
        }
    }

    public static func key(_ name: String) -> String { prefix + name }

    public static func value(_ dataset: Declared) -> String { "\(dataset.format),\(dataset.bytes),\(dataset.samples)" }

    public static func holds(_ name: String, tags: [String: String]) -> Bool { tags[key(name)] != nil }

    /// The datasets a peer's tags declare (malformed values are skipped).
    public static func declared(in tags: [String: String]) -> [Declared] {
        tags.compactMap { key, value -> Declared? in
            guard key.hasPrefix(prefix) else { return nil }
            let parts = value.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 3, let bytes = UInt64(parts[1]), let samples = UInt64(parts[2]) else { return nil }
            return Declared(name: String(key.dropFirst(prefix.count)), format: String(parts[0]), bytes: bytes, samples: samples)
        }.sorted { $0.name < $1.name }
    }
}
