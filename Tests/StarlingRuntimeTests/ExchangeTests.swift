import StarlingMembership
import StarlingPeer
@testable import StarlingRuntime
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// TCP request/response between two runtimes on one loop, and against raw sockets.
@Suite(.serialized) struct ExchangeTests {
    /// A server that answers each request with its bytes reversed.
    static func echoServer() -> Script {
        Script { input, _ in
            guard case let .requestReceived(id, bytes, _) = input else { return [] }
            return [.sendReply(id, bytes.reversed())]
        }
    }

    /// A client that sends the given requests at start.
    static func client(_ requests: [PeerEffect]) -> Script {
        Script { input, _ in
            guard case .start = input else { return [] }
            return requests
        }
    }

    @Test func aRequestGetsItsReply() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let server = Self.echoServer()
        let b = try startRuntime(server, on: loop)
        let to = try #require(b.boundAddress)
        let big = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let client = Self.client([
            .sendRequest(ExchangeID(1), [1, 2, 3], to: to, timeout: .seconds(10)),
            .sendRequest(ExchangeID(2), big, to: to, timeout: .seconds(10)),
            .sendRequest(ExchangeID(3), [], to: to, timeout: .seconds(10)),
        ])
        let a = try startRuntime(client, on: loop)
        #expect(loop.run(until: { client.responses.count == 3 && b.counters["tcp.inbound.replied"] == 3 }, timeout: patience))
        let results = Dictionary(uniqueKeysWithValues: client.responses.map { ($0.id.rawValue, $0.result) })
        #expect(try results[1]?.get() == [3, 2, 1])
        #expect(try results[2]?.get() == big.reversed())
        #expect(try results[3]?.get() == [])
        #expect(server.requests.count == 3)
        #expect(server.requests.allSatisfy { $0.from.host == "127.0.0.1" })
        #expect(a.counters["tcp.outbound.completed"] == 3)
        // Exactly one response per request, even after everything has settled.
        loop.run(until: { false }, timeout: .milliseconds(100))
        #expect(client.responses.count == 3)
    }

    @Test func aRequestToAClosedPortIsUnreachable() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let closed = PeerAddress(host: "127.0.0.1", port: closedTCPPort())
        let client = Self.client([
            .sendRequest(ExchangeID(1), [1], to: closed, timeout: .seconds(10)),
            .sendRequest(ExchangeID(2), [1], to: PeerAddress(host: "peer.example", port: 7946), timeout: .seconds(10)),
        ])
        let a = try startRuntime(client, on: loop)
        #expect(loop.run(until: { client.responses.count == 2 }, timeout: patience))
        for response in client.responses {
            guard case let .failure(.unreachable(reason)) = response.result else {
                Issue.record("expected unreachable, got \(response.result)")
                continue
            }
            #expect(reason.contains(response.id.rawValue == 1 ? "refused" : "not an IP address literal"), "\(reason)")
        }
        #expect(a.counters["tcp.outbound.failed.unreachable"] == 1)
        #expect(a.counters["tcp.outbound.refused.not_literal"] == 1)
    }

    @Test func aRequestWithoutReplyTimesOut() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let silent = Script()
        let b = try startRuntime(silent, on: loop)
        let client = Self.client([.sendRequest(ExchangeID(9), [1, 2], to: try #require(b.boundAddress), timeout: .milliseconds(300))])
        let a = try startRuntime(client, on: loop)
        let started = loop.now
        #expect(loop.run(until: { client.responses.count == 1 }, timeout: patience))
        #expect(loop.now - started >= .milliseconds(290))
        guard case .failure(.timedOut) = client.responses.first?.result else {
            Issue.record("expected timedOut, got \(String(describing: client.responses.first?.result))")
            return
        }
        #expect(silent.requests.count == 1)
        #expect(a.counters["tcp.outbound.failed.timed_out"] == 1)
        // A late reply to a request whose client gave up goes nowhere and breaks nothing.
        #expect(b.counters["tcp.reply.dropped.unknown_id"] == 0)
    }

    @Test func oversizedFramesAreRefused() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let oversized = [UInt8](repeating: 0, count: RuntimeLimits.frameBytesMax + 1)
        let server = Script { input, _ in
            guard case let .requestReceived(id, _, _) = input else { return [] }
            return [.sendReply(id, oversized)]
        }
        let b = try startRuntime(server, on: loop)
        let to = try #require(b.boundAddress)
        let client = Self.client([
            .sendRequest(ExchangeID(1), oversized, to: to, timeout: .seconds(10)),
            .sendRequest(ExchangeID(2), [7], to: to, timeout: .seconds(10)),
        ])
        let a = try startRuntime(client, on: loop)
        #expect(loop.run(until: { client.responses.count == 2 }, timeout: patience))
        let results = Dictionary(uniqueKeysWithValues: client.responses.map { ($0.id.rawValue, $0.result) })
        // Refused before anything is sent.
        #expect(results[1].map { if case .failure(.tooLarge) = $0 { true } else { false } } == true)
        // The server will not send an oversized reply: it closes, and the client learns so.
        #expect(results[2].map { if case .failure(.closed) = $0 { true } else { false } } == true, "\(String(describing: results[2]))")
        #expect(a.counters["tcp.outbound.refused.too_large"] == 1)
        #expect(b.counters["tcp.reply.dropped.too_large"] == 1)

        // A length prefix over the limit is refused as soon as it arrives, body or not.
        let descriptor = RawSocket.connectAndWrite([0xff, 0xff, 0xff, 0xff, 1, 2, 3], toPort: to.port)
        defer { close(descriptor) }
        #expect(loop.run(until: { b.counters["tcp.inbound.closed.too_large"] == 1 }, timeout: patience))
        #expect(server.requests.count == 1)
    }

    @Test func aTooLargeResponseFailsTheRequest() throws {
        // A peer answering with an oversized prefix (a raw server, since runtimes refuse to send one).
        let loop = try EventLoop()
        defer { loop.close() }
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = RawSocket.loopback(0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(listener, $0, length)
                _ = getsockname(listener, $0, &length)
            }
        }
        listen(listener, 4)
        let port = UInt16(bigEndian: address.sin_port)
        let accepted = Background { () -> Int32 in
            let connection = accept(listener, nil, nil)
            var header = [UInt8](repeating: 0, count: 5)
            _ = recv(connection, &header, 5, Int32(MSG_WAITALL))
            _ = send(connection, [UInt8]([0x7f, 0xff, 0xff, 0xff]), 4, Int32(MSG_NOSIGNAL))
            return connection
        }
        let client = Self.client([.sendRequest(ExchangeID(1), [5], to: PeerAddress(host: "127.0.0.1", port: port), timeout: .seconds(10))])
        let a = try startRuntime(client, on: loop)
        #expect(loop.run(until: { client.responses.count == 1 }, timeout: patience))
        #expect(client.responses.first.map { if case .failure(.tooLarge) = $0.result { true } else { false } } == true)
        #expect(a.counters["tcp.outbound.failed.too_large"] == 1)
        #expect(loop.run(until: { accepted.isDone }, timeout: patience))
        if let connection = accepted.value { close(connection) }
    }

    @Test func aRequestFrameArrivingInPiecesIsReassembled() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let server = Self.echoServer()
        let b = try startRuntime(server, on: loop)
        let port = try #require(b.boundAddress).port
        let descriptor = RawSocket.connectAndWrite([0, 0], toPort: port)
        defer { close(descriptor) }
        #expect(loop.run(until: { b.counters["tcp.inbound.accepted"] == 1 }, timeout: patience))
        _ = send(descriptor, [UInt8]([0, 3, 9]), 3, Int32(MSG_NOSIGNAL))
        loop.run(until: { false }, timeout: .milliseconds(50))
        #expect(server.requests.isEmpty)
        _ = send(descriptor, [UInt8]([8, 7]), 2, Int32(MSG_NOSIGNAL))
        #expect(loop.run(until: { b.counters["tcp.inbound.replied"] == 1 }, timeout: patience))
        #expect(server.requests.first?.bytes == [9, 8, 7])
        var reply = [UInt8](repeating: 0, count: 16)
        let count = recv(descriptor, &reply, 16, Int32(MSG_WAITALL))
        #expect(Array(reply.prefix(max(0, count))) == [0, 0, 0, 3, 7, 8, 9])
    }

    @Test func frameDecoderRefusesAnOversizedPrefixBeforeTheBody() throws {
        var decoder = FrameDecoder(bodyBytesMax: 10)
        #expect(try decoder.append([0, 0]) == nil)
        #expect(try decoder.append([0, 2, 1]) == nil)
        #expect(try decoder.append([2, 99]) == [1, 2])
        var strict = FrameDecoder(bodyBytesMax: 10)
        #expect(throws: FrameDecoder.Failure.tooLarge(11)) { try strict.append([0, 0, 0, 11]) }
        #expect(FrameCodec.prefix(forBodyOf: 0x0102_0304) == [1, 2, 3, 4])
    }
}
