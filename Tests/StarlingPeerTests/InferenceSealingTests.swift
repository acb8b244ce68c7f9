import StarlingCrypto
import StarlingPeer
import StarlingTasks
import StarlingTrust
import Testing

/// Edge-to-cloud messages: sealed with the pair's keys, opened only by the other end of the pair,
/// and an answer only for the request it answers.
@Suite struct InferenceSealingTests {
    let edge = try! SigningKey(seed: [UInt8](repeating: 0x21, count: 32))
    let cloud = try! SigningKey(seed: [UInt8](repeating: 0x22, count: 32))
    let stranger = try! SigningKey(seed: [UInt8](repeating: 0x23, count: 32))
    var random = SystemRandomNumberGenerator()
    let task = TaskID(hash: ContentHash.of([1, 2, 3]))

    @Test mutating func aRequestAndItsAnswerRoundTrip() throws {
        let edgeKeys = try PairwiseKeys(local: edge, remote: cloud.publicKey)
        let cloudKeys = try PairwiseKeys(local: cloud, remote: edge.publicKey)
        let body = InferRequestBody(task: task, deadlineMillis: 400, rows: 2, features: 3, values: [0, 1, 2, 3, 4, -0.5])
        let sealed = InferenceSealing.sealRequest(body, requester: edge.publicKey, keys: edgeKeys, using: &random)
        #expect(InferenceSealing.isInferRequest(sealed.bytes))
        let received = try InferenceSealing.receive(sealed.bytes)
        #expect(received.requester == edge.publicKey)
        #expect(try InferenceSealing.open(received, keys: cloudKeys) == body)
        let answer = InferResponseBody.scores(version: 3, classes: 2, values: [0.25, 0.75, 1, 0])
        let reply = InferenceSealing.sealResponse(answer, requestNonce: received.nonce, keys: cloudKeys, using: &random)
        #expect(try InferenceSealing.openResponse(reply, requestNonce: sealed.nonce, keys: edgeKeys) == answer)
        let refusal = InferenceSealing.sealResponse(.refused("not serving"), requestNonce: received.nonce, keys: cloudKeys, using: &random)
        #expect(try InferenceSealing.openResponse(refusal, requestNonce: sealed.nonce, keys: edgeKeys) == .refused("not serving"))
    }

    @Test mutating func forgedTamperedAndReplayedMessagesDoNotOpen() throws {
        let edgeKeys = try PairwiseKeys(local: edge, remote: cloud.publicKey)
        let cloudKeys = try PairwiseKeys(local: cloud, remote: edge.publicKey)
        let body = InferRequestBody(task: task, deadlineMillis: 400, rows: 1, features: 2, values: [1, 2])
        // A stranger claiming to be the edge cannot seal what the cloud opens as the edge's.
        let strangerKeys = try PairwiseKeys(local: stranger, remote: cloud.publicKey)
        let forged = InferenceSealing.sealRequest(body, requester: edge.publicKey, keys: strangerKeys, using: &random)
        #expect(throws: (any Error).self) { try InferenceSealing.open(try InferenceSealing.receive(forged.bytes), keys: cloudKeys) }
        var tampered = InferenceSealing.sealRequest(body, requester: edge.publicKey, keys: edgeKeys, using: &random).bytes
        tampered[tampered.count - 1] ^= 1
        #expect(throws: (any Error).self) { try InferenceSealing.open(try InferenceSealing.receive(tampered), keys: cloudKeys) }
        // An answer to one request is no answer to another.
        let first = InferenceSealing.sealRequest(body, requester: edge.publicKey, keys: edgeKeys, using: &random)
        let second = InferenceSealing.sealRequest(body, requester: edge.publicKey, keys: edgeKeys, using: &random)
        let reply = InferenceSealing.sealResponse(.scores(version: 1, classes: 1, values: [1]), requestNonce: first.nonce,
                                                  keys: cloudKeys, using: &random)
        #expect(throws: (any Error).self) { try InferenceSealing.openResponse(reply, requestNonce: second.nonce, keys: edgeKeys) }
        #expect(throws: (any Error).self) { try InferenceSealing.receive([1, 2, 3]) }
    }
}
