import StarlingMembership
import StarlingPeer
@testable import StarlingRuntime
import Testing

/// UDP between two runtimes sharing one loop (a loop is single-threaded; two machines on it are
/// two peers as far as the sockets can tell).
@Suite(.serialized) struct DatagramTests {
    @Test func datagramsReachTheOtherSide() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let receiver = Script()
        let b = try startRuntime(receiver, on: loop)
        let destination = try #require(b.boundAddress)
        let sender = Script { input, _ in
            guard case .start = input else { return [] }
            return (1...3).map { .sendDatagram([UInt8](repeating: UInt8($0), count: 100 * $0), to: destination) }
        }
        let a = try startRuntime(sender, on: loop)
        #expect(loop.run(until: { receiver.datagrams.count == 3 }, timeout: patience))
        #expect(receiver.datagrams.map(\.bytes.count).sorted() == [100, 200, 300])
        #expect(receiver.datagrams.allSatisfy { $0.from == a.boundAddress })
        #expect(a.counters["udp.sent"] == 3 && b.counters["udp.received"] == 3)
        #expect(b.boundAddress?.host == "127.0.0.1" && b.boundAddress?.port != 0)
    }

    @Test func oversizedDatagramsAreDroppedAndCountedBothWays() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let receiver = Script()
        let b = try startRuntime(receiver, on: loop)
        let destination = try #require(b.boundAddress)
        let sender = Script { input, _ in
            guard case .start = input else { return [] }
            return [
                .sendDatagram([UInt8](repeating: 1, count: RuntimeLimits.datagramBytesMax + 1), to: destination),
                .sendDatagram([1], to: PeerAddress(host: "peer.example", port: 7946)),
            ]
        }
        let a = try startRuntime(sender, on: loop)
        #expect(a.counters["udp.send.dropped.too_large"] == 1)
        #expect(a.counters["udp.send.dropped.not_literal"] == 1)
        #expect(a.counters["udp.sent"] == 0)

        // From outside: a 1,500-byte datagram is measured and dropped; the largest allowed one then
        // arrives (loopback keeps order, so once it is in, the big one was seen).
        RawSocket.sendDatagram([UInt8](repeating: 2, count: 1_500), toPort: destination.port)
        RawSocket.sendDatagram([UInt8](repeating: 3, count: RuntimeLimits.datagramBytesMax), toPort: destination.port)
        #expect(loop.run(until: { receiver.datagrams.count == 1 }, timeout: patience))
        #expect(receiver.datagrams.first?.bytes.count == RuntimeLimits.datagramBytesMax)
        #expect(b.counters["udp.receive.dropped.too_large"] == 1)
    }
}
