/// The kind of a message on the wire or of a signed record.
///
/// Append-only: a tag's number never changes and is never reused, so old and new peers agree on
/// what every number means. `MessageTagTests` pins every number; add new cases at the end.
public enum MessageTag: UInt64, CaseIterable, Sendable {
    /// A node certificate signed by the cluster authority.
    case certificate = 1
    /// A revocation of a node key, signed by the cluster authority.
    case revocation = 2
    /// A membership datagram: sender, pairwise MAC, then ping/ack/... and piggybacked claims.
    case membershipPacket = 3
    /// Anti-entropy over TCP: digest out, differences back, then what the responder lacked.
    case syncRequest = 4
    case syncResponse = 5
    case syncPush = 6
    case syncPushAck = 7
    /// A datagram sealed with the gossip keyring (XChaCha20-Poly1305) around an inner datagram.
    case encryptedPacket = 8
    /// An admin's keyring change (install/use/remove) or listing, sent to each member over a stream.
    case keyringRequest = 9
    case keyringResponse = 10
    /// A probe over a stream (memberlist's TCP fallback ping): a sealed membership datagram with
    /// one ping, answered by a sealed datagram with its ack. Random loss cannot fail it.
    case probeRequest = 11
    case probeResponse = 12
    /// Task state over streams: a pull (what the asker lacks of a task) and its answer, and a
    /// commit pushed to the next coordinator candidates, answered with their `replicated` entries.
    case taskPullRequest = 13
    case taskPullResponse = 14
    case taskReplicateRequest = 15
    case taskReplicateResponse = 16
    /// Blobs over streams (docs/runtime.md, "Blobs"): a blob's manifest and one chunk, asked and
    /// answered, sealed with the pairwise keys of the two peers.
    case blobManifestRequest = 17
    case blobManifestResponse = 18
    case blobChunkRequest = 19
    case blobChunkResponse = 20
    /// Task entries pushed straight to the peer that needs them (a report to the coordinator, an
    /// announcement to the participants), ahead of gossip (docs/tasks.md).
    case taskPushRequest = 21
    case taskPushResponse = 22

    /// A JointInferenceService's hard examples, sent by an edge peer to a cloud peer, and the cloud
    /// model's scores, sealed with the pair's keys (docs/runtime.md, "Joint inference").
    case inferRequest = 23
    case inferResponse = 24
}
