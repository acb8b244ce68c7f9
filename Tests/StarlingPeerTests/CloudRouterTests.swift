import StarlingCrypto
import StarlingMembership
import StarlingPeer
import StarlingTrust
import Testing

/// The edge's choice of cloud peer for hard examples, and its circuit breakers, driven directly.
@Suite struct CloudRouterTests {
    let nodes = (0..<3).map { NodeID(try! SigningKey(seed: [UInt8](repeating: UInt8(0x70 + $0), count: 32)).publicKey) }
    let t0 = Instant.zero

    func candidates(_ qualities: [Double]) -> [CloudRouter.Candidate] {
        zip(nodes, qualities).map { CloudRouter.Candidate(node: $0, linkQuality: $1) }
    }

    @Test func theBestLinkIsAskedAndLoadSpreadsTheRest() {
        var router = CloudRouter()
        let peers = candidates([0.5, 1.0, 0.9])
        #expect(router.choose(among: peers, now: t0) == nodes[1])
        // nodes[1] now has one in flight (score 0.5): nodes[2] (0.9) goes next.
        #expect(router.choose(among: peers, now: t0) == nodes[2])
        router.succeeded(nodes[1])
        #expect(router.choose(among: peers, now: t0) == nodes[1])
    }

    @Test func aRetryGoesToAnotherPeerAndNoneLeftMeansTheEdgeAnswers() {
        var router = CloudRouter()
        let peers = candidates([1.0, 0.8])
        let first = router.choose(among: peers, now: t0)
        router.failed(first!, now: t0)
        #expect(router.choose(among: peers, excluding: [first!], now: t0) == nodes[1])
        #expect(router.choose(among: peers, excluding: [nodes[0], nodes[1]], now: t0) == nil)
        #expect(router.choose(among: [], now: t0) == nil)
    }

    @Test func failuresInARowOpenTheCircuitThenOneProbeDecides() {
        var settings = CloudRouter.Settings()
        settings.failuresToOpen = 2
        settings.openFor = .seconds(5)
        settings.openForMax = .seconds(12)
        var router = CloudRouter(settings: settings)
        let only = candidates([1.0])
        for _ in 0..<2 {
            #expect(router.choose(among: only, now: t0) == nodes[0])
            router.failed(nodes[0], now: t0)
        }
        #expect(router.isOpen(nodes[0]))
        #expect(router.choose(among: only, now: t0 + .seconds(4)) == nil, "open: not asked")
        // After openFor, one probe goes; the others wait for its outcome.
        #expect(router.choose(among: only, now: t0 + .seconds(5)) == nodes[0])
        #expect(router.choose(among: only, now: t0 + .seconds(5)) == nil, "one probe at a time")
        // The probe fails: open for twice as long (10 s), then capped (12 s).
        router.failed(nodes[0], now: t0 + .seconds(5))
        #expect(router.choose(among: only, now: t0 + .seconds(14)) == nil)
        #expect(router.choose(among: only, now: t0 + .seconds(15)) == nodes[0])
        router.failed(nodes[0], now: t0 + .seconds(15))
        #expect(router.choose(among: only, now: t0 + .seconds(26)) == nil)
        #expect(router.choose(among: only, now: t0 + .seconds(27)) == nodes[0], "capped at openForMax")
        // A successful probe closes it.
        router.succeeded(nodes[0])
        #expect(!router.isOpen(nodes[0]))
        #expect(router.choose(among: only, now: t0 + .seconds(27)) == nodes[0])
    }

    @Test func aFailureBeforeTheCircuitOpenedDoesNotLengthenIt() {
        var settings = CloudRouter.Settings()
        settings.failuresToOpen = 1
        var router = CloudRouter(settings: settings)
        let only = candidates([1.0])
        #expect(router.choose(among: only, now: t0) == nodes[0])
        #expect(router.choose(among: only, now: t0) == nodes[0])
        router.failed(nodes[0], now: t0)
        router.failed(nodes[0], now: t0 + .seconds(1))
        #expect(router.choose(among: only, now: t0 + .seconds(5)) == nodes[0], "still opened for 5 s from the first failure")
    }

    @Test func aSuccessResetsTheFailuresInARow() {
        var settings = CloudRouter.Settings()
        settings.failuresToOpen = 2
        var router = CloudRouter(settings: settings)
        let only = candidates([1.0])
        for outcome in [false, true, false, true, false] {
            #expect(router.choose(among: only, now: t0) == nodes[0])
            if outcome { router.succeeded(nodes[0]) } else { router.failed(nodes[0], now: t0) }
        }
        #expect(!router.isOpen(nodes[0]), "never two failures in a row")
    }
}
