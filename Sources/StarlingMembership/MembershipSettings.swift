import StarlingWire

/// Every timing, count and size of the membership protocol, in one place.
///
/// Defaults follow SWIM/Lifeguard as memberlist tunes them for a LAN, with a shorter suspicion
/// timeout (see docs/membership.md for the measured detection times they give).
public struct MembershipSettings: Sendable, Equatable {
    /// One probe target per period (shuffled round-robin).
    public var probeInterval: Duration = .seconds(1)
    /// How long to wait for a direct ack before asking others to probe indirectly.
    public var probeTimeout: Duration = .milliseconds(500)
    /// How many members are asked to probe indirectly.
    public var indirectProbeCount = 3
    /// When a direct probe times out, also probe over a stream (TCP), as memberlist does: under
    /// 10% random loss a direct-plus-3-indirect probe of a live node still fails about 0.8% of the
    /// time (1,000 peers raised about 8 false suspicions a second), a stream probe almost never.
    public var streamProbeFallback = true
    /// How long a stream probe may take: past the probe period, so that one lost SYN (TCP waits
    /// 1 s to resend it) does not fail it. A probe with a stream probe out gets its verdict when
    /// the stream answers or fails, at most this long after the direct probe timed out.
    public var streamProbeTimeout: Duration = .milliseconds(2_500)
    /// Periodic gossip: every `gossipInterval`, to `gossipFanout` random members.
    public var gossipInterval: Duration = .milliseconds(200)
    public var gossipFanout = 3
    /// Each update is sent about `retransmitMultiplier * ceil(log10(N + 1))` times. 6, not
    /// memberlist's 4: with 4, a node of a 100-peer cluster misses a given update with probability
    /// about e^-8 and then waits for anti-entropy (measured: 30 s tails in join-100).
    public var retransmitMultiplier = 6
    /// Suspicion lasts between `suspicionMinimum` and `suspicionMaximumFactor` times that, shrinking
    /// with independent confirmations (Lifeguard). Minimum = multiplier * max(1, log10 N) * probeInterval:
    /// 7.5 s at 1,000 peers. memberlist's 4 (12 s) gave a detection p50 of 11 s at 3; the stream
    /// probe fallback keeps false suspicions rare enough under loss for the shorter time.
    public var suspicionMultiplier = 2.5
    public var suspicionMaximumFactor = 3.0
    /// Lifeguard's local-health multiplier saturates here; timeouts stretch by (health + 1).
    public var localHealthMax = 8
    /// Dead and left members are forgotten after this long (their claims stop spreading).
    public var reapAfter: Duration = .seconds(300)
    /// Anti-entropy: a digest exchange with one random member this often (and right after joining).
    public var antiEntropyInterval: Duration = .seconds(30)
    /// Above this many live members the interval grows with log2 N (see `Membership.antiEntropyPeriod`):
    /// 150 s at 10,000.
    public var antiEntropyScaleFrom = 1_024
    public var antiEntropyConcurrencyMax = 2
    /// After its first exchange (the join), a node syncs once more this soon, to pick up the joins
    /// that gossip could not bring it while nobody knew it yet.
    public var joinFollowUpDelay: Duration = .seconds(3)
    public var requestTimeout: Duration = .seconds(5)
    /// While no other member is known, the bootstrap list is retried this often.
    public var bootstrapRetryInterval: Duration = .seconds(1)
    /// Bytes of each datagram's piggyback space reserved for membership; the rest is reserved for
    /// other gossip (task state). Either side may use what the other leaves unused.
    public var membershipGossipBytes = 800
    /// Largest datagram sent (the wire limit).
    public var datagramBytesMax = WireLimits.datagramBytesMax
    /// Hard caps that bound memory whatever peers send.
    public var membersMax = 20_000
    public var broadcastQueueMax = 4_096
    public var pendingProbesMax = 256
    /// Tags: at most this many pairs, each key and value at most `tagBytesMax` bytes.
    public var tagsMax = 16
    public var tagBytesMax = 128

    public init() {}
}
