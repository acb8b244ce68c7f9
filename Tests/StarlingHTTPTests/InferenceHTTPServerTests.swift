import Foundation
import NIOCore
import NIOHTTP1
import StarlingHTTP
import StarlingInferenceAPI
import Testing

/// The endpoint over real HTTP on loopback, against `FakeBackend`: every route, both tensor data
/// forms, and every limit with its status and counter.
@Suite struct InferenceHTTPServerTests {
    static func server(_ backend: FakeBackend, _ change: (inout InferenceHTTPSettings) -> Void = { _ in }) throws -> InferenceHTTPServer {
        var settings = InferenceHTTPSettings()
        // The idle and call timeouts have their own tests. The others must not depend on the test
        // runner resuming them within a minute: in the full suite, blocking real-process tests can
        // hold the cooperative threads of a 2-core machine that long, and the server would close
        // an idle client's connection, or answer a held call 503, under them.
        settings.idleTimeout = .seconds(900)
        settings.callTimeout = .seconds(900)
        change(&settings)
        return try InferenceHTTPServer(host: "127.0.0.1", port: 0, backend: backend, threads: 2, settings: settings)
    }

    /// Polls until `condition` holds; a failure after 20 s (never a hang of the suite).
    static func wait(_ what: String, _ condition: () -> Bool) async throws {
        for _ in 0..<2_000 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestClientError(description: "not within 20 s: \(what)")
    }

    static let jsonRequest = Array(#"{"id":"r1","inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5,6.5]}]}"#.utf8)

    static func littleEndian(_ values: [Float]) -> [UInt8] {
        values.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value.bitPattern >> ($0 * 8)) } }
    }

    @Test func healthAndMetadataRoutesAnswer() async throws {
        let backend = FakeBackend()
        let server = try Self.server(backend)
        defer { server.shutdown() }
        let client = try await TestHTTPClient(port: server.port)
        defer { client.close() }

        let live = try await client.request(.GET, "/v2/health/live")
        #expect(live.status == .ok && live.text == "{}" && live.headers.first(name: "content-type") == "application/json")
        #expect(try await client.request(.GET, "/v2/health/ready").status == .ok)
        let metadata = try await client.request(.GET, "/v2")
        #expect(metadata.text == #"{"extensions":["binary_tensor_data"],"name":"starling","version":"0.1.0"}"#)
        let model = try await client.request(.GET, "/v2/models/digits")
        #expect(try model.decode(ModelMetadataResponse.self) == FakeBackend.metadata)
        #expect(try await client.request(.GET, "/v2/models/digits/ready").status == .ok)
        #expect(try await client.request(.GET, "/v2/models/digits/versions/1/ready").status == .ok)
        #expect(try await client.request(.GET, "/v2/models/dig%69ts").status == .ok, "names are percent-decoded")
        let missing = try await client.request(.GET, "/v2/models/nope")
        #expect(missing.status == .notFound && missing.error == "no model nope")

        backend.ready = false
        let notReady = try await client.request(.GET, "/v2/health/ready")
        #expect(notReady.status == .serviceUnavailable && notReady.error == "not ready")
        let modelNotReady = try await client.request(.GET, "/v2/models/digits/ready")
        #expect(modelNotReady.status == .serviceUnavailable && modelNotReady.error == "model digits is not ready")
        #expect(try await client.request(.GET, "/v2/models/digits").status == .ok, "metadata answers while not ready")
        #expect(try await client.request(.GET, "/v2/health/live").status == .ok, "live is the server's own")
        let counters = server.counters()
        #expect(counters["http.requests"] == 12 && counters["http.responses.2xx"] == 9 && counters["http.refused.not_ready"] == 2)
    }

    @Test func aJSONInferenceIsAnsweredInJSONOnAKeptAliveConnection() async throws {
        let backend = FakeBackend()
        let server = try Self.server(backend)
        defer { server.shutdown() }
        let client = try await TestHTTPClient(port: server.port)
        defer { client.close() }
        for path in ["/v2/models/digits/infer", "/v2/models/digits/versions/7/infer"] {
            let answer = try await client.request(.POST, path, headers: [("content-type", "application/json")], body: Self.jsonRequest)
            #expect(answer.status == .ok && answer.headers.first(name: "content-type") == "application/json")
            #expect(answer.headers.first(name: BinaryTensorData.headerLengthField) == nil)
            let response = try answer.decode(InferResponse.self)
            #expect(response.id == "r1" && response.outputs.first?.data == .numbers([2, 4, 6, 8, 10, 13]))
        }
        guard case let .infer(model, request)? = backend.calls.last else { Issue.record("no infer call"); return }
        #expect(model == "digits" && request.inputs.first?.shape == [2, 3])
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let server = try Self.server(FakeBackend())
        defer { server.shutdown() }
        let client = try await TestHTTPClient(port: server.port)
        defer { client.close() }
        client.send(.POST, "/v2/models/digits/infer", body: Self.jsonRequest)
        client.send(.GET, "/v2/models/nope/infer")
        client.send(.GET, "/v2/health/live")
        #expect(try await client.response().status == .ok)
        #expect(try await client.response().status == .methodNotAllowed)
        #expect(try await client.response().text == "{}")
    }

    @Test func aBinaryInferenceIsReadAsJSONAndAnsweredInBinary() async throws {
        let backend = FakeBackend()
        let server = try Self.server(backend)
        defer { server.shutdown() }
        let client = try await TestHTTPClient(port: server.port)
        defer { client.close() }
        // What tritonclient.http sends by default: binary input, binary output asked.
        let header = #"{"id":"b1","inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","parameters":{"binary_data_size":12}}],"outputs":[{"name":"scores","parameters":{"binary_data":true}}]}"#
        let body = Array(header.utf8) + Self.littleEndian([0.5, 1, -2])
        let answer = try await client.request(.POST, "/v2/models/digits/infer",
                                              headers: [(BinaryTensorData.headerLengthField, String(header.utf8.count))], body: body)
        #expect(answer.status == .ok && answer.headers.first(name: "content-type") == "application/octet-stream")
        let length = try #require(answer.headers.first(name: BinaryTensorData.headerLengthField).flatMap(Int.init))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(answer.body.prefix(length))) as? [String: Any])
        let output = try #require((json["outputs"] as? [[String: Any]])?.first)
        #expect((output["parameters"] as? [String: Any])?["binary_data_size"] as? Int == 12 && output["data"] == nil)
        #expect(Array(answer.body.dropFirst(length)) == Self.littleEndian([1, 2, -4]))
        guard case let .infer(_, request)? = backend.calls.last else { Issue.record("no infer call"); return }
        #expect(request.inputs.first?.data == .numbers([0.5, 1, -2]) && request.inputs.first?.parameters == nil,
                "the backend sees the JSON form")

        // binary_data_output on the request asks every output in binary.
        let all = #"{"inputs":[{"name":"x","shape":[3],"datatype":"FP32","data":[1,1,1]}],"parameters":{"binary_data_output":true}}"#
        let binary = try await client.request(.POST, "/v2/models/digits/infer", body: Array(all.utf8))
        let allLength = try #require(binary.headers.first(name: BinaryTensorData.headerLengthField).flatMap(Int.init))
        #expect(Array(binary.body.dropFirst(allLength)) == Self.littleEndian([2, 2, 2]))
    }

    @Test func badRequestsAreRefusedWithJSONErrorsAndTheConnectionStaysUsable() async throws {
        let server = try Self.server(FakeBackend())
        defer { server.shutdown() }
        let client = try await TestHTTPClient(port: server.port)
        defer { client.close() }
        let garbage = try await client.request(.POST, "/v2/models/digits/infer", body: Array("{\"inputs\": [".utf8))
        #expect(garbage.status == .badRequest && garbage.headers.first(name: "content-type") == "application/json")
        #expect(garbage.error?.hasPrefix("the request is not valid JSON") == true, "\(garbage.text)")
        let wrongType = try await client.request(.POST, "/v2/models/digits/infer",
                                                 body: Array(#"{"inputs":[{"name":"x","shape":"3","datatype":"FP32","data":[1]}]}"#.utf8))
        #expect(wrongType.status == .badRequest && wrongType.error == "inputs[0].shape: expected an array")
        let badBinary = try await client.request(.POST, "/v2/models/digits/infer", headers: [(BinaryTensorData.headerLengthField, "9999")],
                                                 body: Self.jsonRequest)
        #expect(badBinary.status == .badRequest && badBinary.error?.contains("9999") == true)
        let backendRefusal = try await client.request(.POST, "/v2/models/digits/infer",
                                                      body: Array(#"{"inputs":[{"name":"x","shape":[4],"datatype":"FP32","data":[1,2,3,4]}]}"#.utf8))
        #expect(backendRefusal.status == .badRequest && backendRefusal.error == "input x: 4 features per example; the model takes 3")
        let gzip = try await client.request(.POST, "/v2/models/digits/infer", headers: [("content-encoding", "gzip")], body: [1, 2])
        #expect(gzip.status == .unsupportedMediaType && gzip.error?.contains("gzip") == true)

        let unknown = try await client.request(.GET, "/v3/anything")
        #expect(unknown.status == .notFound && unknown.error?.hasPrefix("no route /v3/anything") == true)
        #expect(try await client.request(.GET, "/v2/models/digits/explain").status == .notFound)
        let method = try await client.request(.GET, "/v2/models/digits/infer")
        #expect(method.status == .methodNotAllowed && method.headers.first(name: "allow") == "POST")
        #expect(method.error == "/v2/models/digits/infer answers POST, not GET")
        #expect(try await client.request(.DELETE, "/v2/health/live").status == .methodNotAllowed)
        #expect(try await client.request(.GET, "/v2/health/live").status == .ok, "still kept alive")
        let counters = server.counters()
        #expect(counters["http.refused.bad_request"] == 3 && counters["http.refused.backend"] == 1)
        #expect(counters["http.refused.not_found"] == 2 && counters["http.refused.method"] == 2 && counters["http.refused.content_encoding"] == 1)
    }

    @Test func anOversizedBodyIsRefusedBeforeItIsRead() async throws {
        let server = try Self.server(FakeBackend()) { $0.requestBytesMax = 1_000 }
        defer { server.shutdown() }
        // Content-Length says too much: 413 at once, with only 10 bytes of the body sent.
        let declared = try await TestHTTPClient(port: server.port)
        declared.send(.POST, "/v2/models/digits/infer", headers: [("content-length", "100000000")], body: Array(repeating: 32, count: 10), end: false)
        let refused = try await declared.response()
        #expect(refused.status == .payloadTooLarge && refused.error == "a body of 100000000 bytes; at most 1000")
        #expect(refused.headers.first(name: "connection") == "close")
        #expect(await declared.closed())

        // A chunked body: refused as soon as it passes the limit, the rest never sent.
        let streamed = try await TestHTTPClient(port: server.port)
        streamed.send(.POST, "/v2/models/digits/infer", headers: [("transfer-encoding", "chunked")],
                      chunks: [Array(repeating: 32, count: 600), Array(repeating: 32, count: 600)], end: false)
        let passed = try await streamed.response()
        #expect(passed.status == .payloadTooLarge && passed.error == "a body past 1000 bytes; at most 1000")
        #expect(await streamed.closed())
        #expect(server.counters()["http.refused.body_too_large"] == 2)
    }

    @Test func anOversizedHeadIsRefused() async throws {
        let server = try Self.server(FakeBackend()) { $0.headerBytesMax = 2_048 }
        defer { server.shutdown() }
        let client = try await TestHTTPClient(port: server.port)
        client.send(.GET, "/v2/health/live", headers: [("x-padding", String(repeating: "a", count: 4_000))])
        let refused = try await client.response()
        #expect(refused.status == .requestHeaderFieldsTooLarge && refused.error?.contains("2048") == true)
        #expect(await client.closed())
        #expect(server.counters()["http.refused.header_too_large"] == 1)
    }

    @Test func callsPastTheInFlightLimitAreRefusedWith429() async throws {
        let backend = FakeBackend()
        backend.holding = true
        let server = try Self.server(backend) { $0.callsInFlightMax = 2 }
        defer { server.shutdown() }
        let clients = [try await TestHTTPClient(port: server.port), try await TestHTTPClient(port: server.port),
                       try await TestHTTPClient(port: server.port)]
        defer { clients.forEach { $0.close() } }
        clients[0].send(.POST, "/v2/models/digits/infer", body: Self.jsonRequest)
        clients[1].send(.POST, "/v2/models/digits/infer", body: Self.jsonRequest)
        try await Self.wait("two calls held") { backend.heldCount >= 2 }
        let third = try await clients[2].request(.POST, "/v2/models/digits/infer", body: Self.jsonRequest)
        #expect(third.status == .tooManyRequests && third.error == "2 calls are in flight; try again later")
        #expect(try await clients[2].request(.GET, "/v2/health/live").status == .ok, "the server's own routes call nothing")
        backend.holding = false
        backend.release()
        #expect(try await clients[0].response().status == .ok)
        #expect(try await clients[1].response().status == .ok)
        #expect(try await clients[2].request(.POST, "/v2/models/digits/infer", body: Self.jsonRequest).status == .ok, "slots come back")
        let counters = server.counters()
        #expect(counters["http.refused.in_flight"] == 1 && counters["http.calls_in_flight"] == 0)
    }

    @Test func aBackendThatDoesNotReplyInTimeGets503AndItsLateReplyIsIgnored() async throws {
        let backend = FakeBackend()
        backend.holding = true
        let server = try Self.server(backend) { $0.callTimeout = .milliseconds(200) }
        defer { server.shutdown() }
        let client = try await TestHTTPClient(port: server.port)
        defer { client.close() }
        let timedOut = try await client.request(.POST, "/v2/models/digits/infer", body: Self.jsonRequest)
        #expect(timedOut.status == .serviceUnavailable && timedOut.error == "the backend did not answer within 0.2 s")
        backend.holding = false
        backend.release()
        try await Self.wait("the late reply counted") { server.counters()["http.late_replies"] == 1 }
        // The late reply wrote nothing: the next answer on the connection is the next request's.
        let next = try await client.request(.GET, "/v2/health/live")
        #expect(next.status == .ok && next.text == "{}")
        let counters = server.counters()
        #expect(counters["http.refused.timeout"] == 1 && counters["http.responses.5xx"] == 1 && counters["http.calls_in_flight"] == 0)
    }

    @Test func connectionsPastTheLimitAreAnswered503AndClosed() async throws {
        let server = try Self.server(FakeBackend()) { $0.connectionsMax = 1 }
        defer { server.shutdown() }
        let first = try await TestHTTPClient(port: server.port)
        defer { first.close() }
        #expect(try await first.request(.GET, "/v2/health/live").status == .ok)
        let second = try await TestHTTPClient(port: server.port)
        let refused = try await second.request(.GET, "/v2/health/live")
        #expect(refused.status == .serviceUnavailable && refused.error == "1 connections are open; try again later")
        #expect(await second.closed())
        #expect(server.counters()["http.refused.connections"] == 1)
    }

    @Test func anIdleConnectionIsClosed() async throws {
        let server = try Self.server(FakeBackend()) { $0.idleTimeout = .milliseconds(300) }
        defer { server.shutdown() }
        // No request at all: a test thread starved by other tests could not race the timeout.
        let client = try await TestHTTPClient(port: server.port)
        #expect(await client.closed(within: 10))
        #expect(server.counters()["http.closed_idle"] == 1)
    }

    @Test func shutdownClosesConnectionsWithCallsWaitingAndIgnoresTheirLateReplies() async throws {
        let backend = FakeBackend()
        backend.holding = true
        let server = try Self.server(backend)
        let port = server.port
        let client = try await TestHTTPClient(port: port)
        client.send(.POST, "/v2/models/digits/infer", body: Self.jsonRequest)
        try await Self.wait("a call held") { backend.heldCount >= 1 }
        server.shutdown()
        #expect(await client.closed())
        backend.release()
        try await Task.sleep(for: .milliseconds(100))
        #expect(server.counters()["http.late_replies"] == 1 && server.counters()["http.calls_in_flight"] == 0)
        server.shutdown()
        await #expect(throws: (any Error).self) { _ = try await TestHTTPClient(port: port) }
    }

    @Test func aPortInUseIsAnError() throws {
        let server = try Self.server(FakeBackend())
        defer { server.shutdown() }
        #expect(throws: (any Error).self) {
            _ = try InferenceHTTPServer(host: "127.0.0.1", port: server.port, backend: FakeBackend())
        }
    }
}
