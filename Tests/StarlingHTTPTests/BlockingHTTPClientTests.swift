import Foundation
import StarlingHTTP
import StarlingInferenceAPI
import Testing

/// The CLI's blocking client against the real endpoint on loopback (`FakeBackend`): answers on one
/// kept-alive connection, a new connection after the server closes one, and a timed-out call that
/// leaves no answer behind for the next.
@Suite struct BlockingHTTPClientTests {
    static let path = "/v2/models/digits/infer"

    static func scores(_ response: BlockingHTTPClient.Response) throws -> [Double] {
        let answer = try JSONDecoder().decode(InferResponse.self, from: Data(response.body))
        guard case let .numbers(values)? = answer.outputs.first?.data else { return [] }
        return values
    }

    @Test func answersComeBackInOrderOnOneConnection() throws {
        let server = try InferenceHTTPServerTests.server(FakeBackend())
        defer { server.shutdown() }
        let client = BlockingHTTPClient(port: server.port)
        for value in 1...3 {
            let body = Array(#"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[\#(value),0,1]}]}"#.utf8)
            let response = try client.post(Self.path, contentType: "application/json", body: body, timeoutSeconds: 20)
            #expect(response.status == 200)
            #expect(try Self.scores(response) == [Double(2 * value), 0, 2])
        }
        #expect(server.counters()["http.connections_open"] == 1, "the three calls shared one connection")
        let missing = try client.post("/v2/models/nope/infer", contentType: "application/json",
                                      body: InferenceHTTPServerTests.jsonRequest, timeoutSeconds: 20)
        #expect(missing.status == 404)
        #expect(String(decoding: missing.body, as: UTF8.self).contains("no model nope"))
    }

    @Test func aConnectionTheServerClosedIsOpenedAgain() throws {
        let server = try InferenceHTTPServerTests.server(FakeBackend()) { $0.idleTimeout = .milliseconds(100) }
        defer { server.shutdown() }
        let client = BlockingHTTPClient(port: server.port)
        let body = InferenceHTTPServerTests.jsonRequest
        #expect(try client.post(Self.path, contentType: "application/json", body: body, timeoutSeconds: 20).status == 200)
        for _ in 0..<200 where server.counters()["http.closed_idle", default: 0] == 0 { usleep(10_000) }
        #expect(server.counters()["http.closed_idle"] == 1)
        usleep(50_000)  // the close reaches the client
        #expect(try client.post(Self.path, contentType: "application/json", body: body, timeoutSeconds: 20).status == 200)
    }

    @Test func aCallPastItsTimeoutFailsAndTheNextGetsItsOwnAnswer() throws {
        let backend = FakeBackend()
        let server = try InferenceHTTPServerTests.server(backend)
        defer { server.shutdown() }
        let client = BlockingHTTPClient(port: server.port)
        backend.holding = true
        let first = Array(#"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,1,1]}]}"#.utf8)
        #expect(throws: BlockingHTTPClient.Failure.self) {
            try client.post(Self.path, contentType: "application/json", body: first, timeoutSeconds: 0.2)
        }
        backend.holding = false
        backend.release()  // the first call's answer is late now, and its connection closed
        let second = Array(#"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[5,5,5]}]}"#.utf8)
        let response = try client.post(Self.path, contentType: "application/json", body: second, timeoutSeconds: 20)
        #expect(try Self.scores(response) == [10, 10, 10])
    }

    @Test func noServerIsAClearError() throws {
        let server = try InferenceHTTPServerTests.server(FakeBackend())
        let port = server.port
        server.shutdown()
        #expect {
            try BlockingHTTPClient(port: port).post(Self.path, contentType: "application/json", body: [], timeoutSeconds: 5)
        } throws: { error in
            "\(error)".contains("cannot connect to 127.0.0.1:\(port)")
        }
    }
}
