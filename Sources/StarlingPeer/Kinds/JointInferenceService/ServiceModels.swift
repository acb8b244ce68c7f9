import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust

/// How a service's model names resolve to contents (docs/tasks.md, "Joint inference"): a model
/// imported under the name (`starling model import NAME`, declared in live peers' tags), else the
/// latest committed model of the FederatedTask of that name.
enum ServiceModels {
    enum Resolution: Equatable {
        case held(ContentHash, holders: [NodeID])
        case unresolved(String)
        /// Nobody up declares the name now (its declarers may be down): the deployment's model
        /// stands, as its serving peers hold it.
        case missing(String)
    }

    static func resolve(_ name: String, host: some TaskHost) -> Resolution {
        let declarers = ModelTags.declarers(of: name, among: host.aliveNodes.map { (peer: $0, tags: host.tags(of: $0)) })
        if declarers.count > 1 {
            let who = declarers.sorted { $0.key < $1.key }.map { hash, nodes in
                "\(hash.hex.prefix(12)) by \(nodes.map { host.name(of: $0) ?? $0.short }.sorted().joined(separator: ", "))"
            }
            return .unresolved("peers declare different models named \(name) (\(who.joined(separator: "; "))); "
                + "starling model import or model remove on those peers")
        }
        if let (hash, holders) = declarers.first { return .held(hash, holders: holders.sorted()) }
        if let committed = host.committedModel(ofTaskNamed: name) { return .held(committed.model, holders: committed.holders) }
        return .missing("no live peer declares a model named \(name) (starling model import \(name) --path FILE), "
            + "and no FederatedTask named \(name) has committed a model")
    }

    /// Where a serving peer fetches `model`: the peers that declare or committed it, then the
    /// other peers serving it (they fetched it already), live ones only.
    static func sources(of model: ContentHash, named name: String, servedBy peers: [NodeID], host: some TaskHost) -> [BlobSource] {
        var nodes: [NodeID] = []
        if case let .held(hash, holders) = resolve(name, host: host), hash == model { nodes = holders }
        // Names whose declarers are gone: the peers serving the model hold it.
        for peer in peers where !nodes.contains(peer) { nodes.append(peer) }
        return nodes.filter { $0 != host.me && host.isUp($0) }.compactMap { host.blobSource($0) }
    }
}
