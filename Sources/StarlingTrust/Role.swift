import StarlingWire

/// What a certificate allows its node to do.
public struct Roles: OptionSet, Hashable, Sendable, CustomStringConvertible, WireCodable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Member of the cluster: may gossip and be gossiped about.
    public static let peer = Roles(rawValue: 1 << 0)
    /// May be elected coordinator of a task.
    public static let coordinator = Roles(rawValue: 1 << 1)
    /// May submit and cancel tasks.
    public static let submit = Roles(rawValue: 1 << 2)
    /// May change cluster-wide settings (gossip keyring).
    public static let admin = Roles(rawValue: 1 << 3)

    /// Names in their canonical order; the text form used by the CLI and in docs.
    public static let named: [(name: String, role: Roles)] = [
        ("peer", .peer), ("coordinator", .coordinator), ("submit", .submit), ("admin", .admin),
    ]
    static let known: Roles = Roles(named.map(\.role))

    /// Parses `peer,coordinator,...`; an unknown or repeated name is an error naming it.
    public init(text: String) throws {
        var roles: Roles = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = String(part).trimmingWhitespace().lowercased()
            guard let role = Self.named.first(where: { $0.name == name })?.role else {
                throw TrustError.unknownRole(name, known: Self.named.map(\.name))
            }
            guard !roles.contains(role) else { throw TrustError.repeatedRole(name) }
            roles.insert(role)
        }
        self = roles
    }

    public var description: String {
        Self.named.filter { contains($0.role) }.map(\.name).joined(separator: ",")
    }

    public func encode(to writer: inout WireWriter) { writer.writeVarint(rawValue) }

    public init(from reader: inout WireReader) throws {
        let raw = try reader.readVarint()
        guard raw & ~Self.known.rawValue == 0 else { throw WireError.invalidValue(field: "roles", value: raw) }
        rawValue = raw
    }
}
