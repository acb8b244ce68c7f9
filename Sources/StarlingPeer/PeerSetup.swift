import StarlingCrypto
import StarlingMembership
import StarlingTasks
import StarlingTrust

/// Everything a peer machine starts from. Drivers build it from the data directory (runtime) or
/// from a scenario (simulator).
public struct PeerSetup: Sendable {
    public var identity: SigningKey
    public var certificate: Certificate
    public var authority: PublicKey
    public var revocations: [Revocation]
    /// The address other peers reach this one at.
    public var advertise: PeerAddress
    public var bootstrap: [PeerAddress]
    public var tags: [String: String]
    public var persisted: PersistedState
    public var settings: MembershipSettings
    /// Verifies Ed25519 signatures once per distinct signed claim. The simulator shares one cache
    /// across all its peers (a verification is a pure function of the bytes).
    public var signatureCache: SignatureCache
    /// Wall-clock seconds when the machine starts; certificate windows are checked against it.
    public var unixTimeAtStart: UInt64
    public var packetAuthentication: PacketAuthentication
    /// When set and holding keys, gossip datagrams are sealed with its primary key and only sealed
    /// datagrams are accepted.
    public var keyring: Keyring?
    /// Members known before start (a trusted snapshot; see `Membership.init`).
    public var initialMembers: [ClaimBox]
    /// Tasks kept from before a restart (the store's), and the task layer's timings.
    public var tasks: [TaskState] = []
    public var taskSettings = TaskSettings()

    public init(identity: SigningKey, certificate: Certificate, authority: PublicKey, revocations: [Revocation] = [],
                advertise: PeerAddress, bootstrap: [PeerAddress], tags: [String: String] = [:],
                persisted: PersistedState = PersistedState(), settings: MembershipSettings = MembershipSettings(),
                signatureCache: SignatureCache = SignatureCache(), unixTimeAtStart: UInt64,
                packetAuthentication: PacketAuthentication = .pairwiseMAC, keyring: Keyring? = nil,
                initialMembers: [ClaimBox] = []) {
        self.identity = identity
        self.certificate = certificate
        self.authority = authority
        self.revocations = revocations
        self.advertise = advertise
        self.bootstrap = bootstrap
        self.tags = tags
        self.persisted = persisted
        self.settings = settings
        self.signatureCache = signatureCache
        self.unixTimeAtStart = unixTimeAtStart
        self.packetAuthentication = packetAuthentication
        self.keyring = keyring
        self.initialMembers = initialMembers
    }
}
