import StarlingCrypto

/// How a peer declares the starting models it holds (`starling model import NAME --path FILE`):
/// one membership tag per model, `model.<name>` = the 64 lowercase hex characters of the model's
/// blob id (for example `model.digits-start` = `9a0c44e1…`). A FederatedTask whose
/// `aggregationWorker.model.name` names one starts round 1 from it: its coordinator fetches the
/// blob by that hash from the peers that declare it, like any base model. Only the name and the
/// hash are gossiped; the bytes move as a blob.
public enum ModelTags {
    public static let prefix = "model."
    /// Models a peer may declare. With `DatasetTags.datasetsMax` datasets and the operator's own
    /// tags this stays within membership's `MembershipSettings.tagsMax` (16); each declaration is
    /// about 90 bytes of the peer's signed alive claim, which gossip carries in a datagram.
    public static let modelsMax = 4
    /// Longest model name, in UTF-8 bytes: `model.<name>` must fit one membership tag key
    /// (`MembershipSettings.tagBytesMax`, 128 bytes, so 122). The value, 64 hex characters, fits too.
    /// Membership's 128 is written out so that tasks need not depend on membership;
    /// ModelTagsTests fails if the two drift apart.
    public static let nameBytesMax = 128 - prefix.utf8.count
    /// A declared value: the hash as lowercase hex.
    static let valueCount = 2 * ContentHash.byteCount

    public struct Declared: Sendable, Equatable {
        public let name: String
        public let hash: ContentHash

        public init(name: String, hash: ContentHash) {
            self.name = name
            self.hash = hash
        }
    }

    /// The tag key that declares the model `name`.
    public static func tag(for name: String) -> String { prefix + name }

    /// The tag value that declares a model's contents.
    public static func value(for hash: ContentHash) -> String { hash.hex }

    /// The contents a peer's tags declare under `name`; nil when they declare none, or a value that
    /// is not 64 lowercase hex characters of a non-zero hash (a malformed tag is no declaration).
    public static func hash(of name: String, tags: [String: String]) -> ContentHash? {
        tags[tag(for: name)].flatMap(parse)
    }

    /// Every model a peer's tags declare, by name (malformed values are skipped).
    public static func declared(in tags: [String: String]) -> [Declared] {
        tags.compactMap { key, value -> Declared? in
            guard key.hasPrefix(prefix), let hash = parse(value) else { return nil }
            return Declared(name: String(key.dropFirst(prefix.count)), hash: hash)
        }.sorted { $0.name < $1.name }
    }

    /// Who declares `name`, grouped by the contents they declare (peers in the order given). One
    /// key: the peers agree; several: peers declare different contents under one name, a conflict
    /// for the caller to report; none: nobody declares it.
    public static func declarers<Peer: Hashable>(of name: String, among peers: [(peer: Peer, tags: [String: String])])
        -> [ContentHash: [Peer]] {
        var found: [ContentHash: [Peer]] = [:]
        for (peer, tags) in peers {
            if let hash = hash(of: name, tags: tags) { found[hash, default: []].append(peer) }
        }
        return found
    }

    /// Why `name` cannot name an imported model, or nil when it can. The rules of a model name in
    /// a spec (`aggregationWorker.model.name`: text, not empty), and short enough for its tag key.
    public static func problem(withName name: String) -> String? {
        if name.isEmpty { return "a model name must not be empty" }
        if name.utf8.count > nameBytesMax {
            return "a model name is at most \(nameBytesMax) bytes (ModelTags.nameBytesMax: its tag `\(prefix)NAME` "
                + "must fit a membership tag), not \(name.utf8.count)"
        }
        return nil
    }

    /// The hash a tag value declares: 64 lowercase hex characters (one spelling per hash, as
    /// `value(for:)` writes it) of a non-zero hash; nil otherwise.
    public static func parse(_ value: String) -> ContentHash? {
        let utf8 = value.utf8
        guard utf8.count == valueCount,
              utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) })
        else { return nil }
        guard let bytes = try? Hex.decode(value), let hash = try? ContentHash(bytes: bytes), hash != ModelHash.none else { return nil }
        return hash
    }
}
