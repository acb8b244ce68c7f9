import StarlingCrypto
import StarlingTasks
import StarlingTrust
import StarlingWire

/// "I hold task `id` with this digest": piggybacked on membership datagrams (an item of kind
/// `TaskAdvert.itemKind`, which membership decoders skip). A receiver whose copy differs pulls the
/// difference over a stream, so no task ever needs to fit in one datagram.
public struct TaskAdvert: Hashable, Sendable, WireCodable {
    /// The payload item kind, after membership's own (1-6).
    public static let itemKind: UInt8 = 32
    public let id: TaskID
    public let digest: ContentHash
    public let entries: UInt32

    public init(id: TaskID, digest: ContentHash, entries: UInt32) {
        self.id = id
        self.digest = digest
        self.entries = entries
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(id)
        writer.writeFixed(digest.bytes)
        writer.write(entries)
    }

    public init(from reader: inout WireReader) throws {
        id = try reader.read()
        digest = try ContentHash(bytes: reader.readFixed(ContentHash.byteCount))
        entries = try reader.readUInt32()
    }

    /// Bytes one advert takes in a datagram (kind, length prefix, body).
    public static let itemBytes = 1 + 1 + 32 + 32 + 4

    /// Appends the advert as a payload item.
    public func appendItem(to writer: inout WireWriter) {
        writer.write(Self.itemKind)
        writer.writeBytes(wireBytes)
    }

    /// The adverts among a datagram payload's items (other kinds are skipped; malformed adverts are
    /// counted in `malformed`).
    public static func adverts(in payload: ArraySlice<UInt8>, malformed: inout Int) -> [TaskAdvert] {
        var reader = WireReader(payload)
        var found: [TaskAdvert] = []
        while !reader.isAtEnd {
            guard let kind = try? reader.readUInt8(),
                  let body = try? reader.readBytes(field: "item length", limit: WireLimits.datagramBytesMax)
            else { return found }
            guard kind == itemKind else { continue }
            if let advert = try? TaskAdvert(wireBytes: body) { found.append(advert) } else { malformed += 1 }
        }
        return found
    }
}

/// Asks a peer for what it holds of a task and we lack: the signed spec (when `needSpec`) and the
/// entries whose hashes are not in `have`.
public struct TaskPullRequest: Sendable, Equatable, WireCodable {
    public let id: TaskID
    public let needSpec: Bool
    public let have: [ContentHash]

    public init(id: TaskID, needSpec: Bool, have: [ContentHash]) {
        self.id = id
        self.needSpec = needSpec
        self.have = have
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(id)
        writer.write(needSpec)
        writer.writeVarint(have.count)
        for hash in have { writer.writeFixed(hash.bytes) }
    }

    public init(from reader: inout WireReader) throws {
        id = try reader.read()
        needSpec = try reader.readBool(field: "need spec")
        let count = try reader.readCount(field: "have", limit: TaskStateLimits.entriesMax)
        var have: [ContentHash] = []
        have.reserveCapacity(count)
        for _ in 0..<count { have.append(try ContentHash(bytes: reader.readFixed(ContentHash.byteCount))) }
        self.have = have
    }
}

/// What a peer holds of a task that the asker lacks. Also used to push entries to a coordinator
/// candidate before a commit is announced (the answer is then the candidate's `replicated` entry).
///
/// It carries the certificates of the spec's submitter and of the entries' authors, so a peer that
/// never met them (it joined after they left and were reaped) can still check their roles: each
/// certificate is verified against the cluster authority and the revocations before it is used.
public struct TaskEntries: Sendable, Equatable, WireCodable {
    public let id: TaskID
    public let spec: SignedTaskSpec?
    public let entries: [TaskEntry]
    public let certificates: [Certificate]

    public init(id: TaskID, spec: SignedTaskSpec?, entries: [TaskEntry], certificates: [Certificate] = []) {
        self.id = id
        self.spec = spec
        self.entries = entries
        self.certificates = certificates
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(id)
        writer.writeOptional(spec)
        writer.writeList(entries)
        writer.writeList(certificates)
    }

    public init(from reader: inout WireReader) throws {
        id = try reader.read()
        spec = try reader.readOptional(SignedTaskSpec.self, field: "spec")
        entries = try reader.readList(TaskEntry.self, field: "entries", limit: TaskStateLimits.entriesMax)
        certificates = try reader.readList(Certificate.self, field: "certificates", limit: TaskStateLimits.entriesMax)
    }
}
