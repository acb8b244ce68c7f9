import StarlingCrypto
import StarlingMembership
import StarlingPeer
import StarlingTasks
import StarlingTrust

/// A cloud peer's side of the edge-to-cloud path: opens a sealed request from a member, scores
/// its examples with the service's cloud worker, and answers sealed (or says why not, sealed too).
/// A request that does not open, or comes from a peer that is not a member, gets no answer.
extension ServingExecutor {
    func answerCloud(_ frame: [UInt8], reply: @escaping ([UInt8]) -> Void) {
        runner.counters.increment("serving.cloud_requests_received")
        guard let network, let received = try? InferenceSealing.receive(frame) else {
            runner.counters.increment("serving.cloud_dropped.malformed")
            return reply([])
        }
        let requester = NodeID(received.requester)
        guard network.members().contains(where: { $0.node == requester && $0.state != .dead && $0.state != .left }),
              let keys = network.keys(received.requester) else {
            runner.counters.increment("serving.cloud_dropped.not_a_member")
            return reply([])
        }
        let body: InferRequestBody
        do {
            body = try InferenceSealing.open(received, keys: keys)
        } catch {
            runner.counters.increment("serving.cloud_dropped.does_not_open")
            return reply([])
        }
        let nonce = received.nonce
        let respond: (InferResponseBody) -> Void = { [weak self] response in
            guard let self else { return }
            reply(InferenceSealing.sealResponse(response, requestNonce: nonce, keys: keys, using: &self.random))
        }
        guard let service = services[body.task], let cloud = service.workers[.cloud], cloud.isReady else {
            runner.counters.increment("serving.cloud_refused.not_serving")
            return respond(.refused("this peer does not serve the cloud model of that service (now)"))
        }
        cloud.score(body.values, rows: body.rows, features: body.features) { result in
            switch result {
            case let .success(scores):
                service.stats.cloudServed += UInt64(body.rows)
                respond(.scores(version: scores.version, classes: scores.classes, values: scores.values))
            case let .failure(failure):
                respond(.refused(failure.message))
            }
        }
    }
}
