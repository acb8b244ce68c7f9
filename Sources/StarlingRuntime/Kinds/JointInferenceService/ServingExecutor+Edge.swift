import StarlingCrypto
import StarlingLearning
import StarlingMembership
import StarlingPeer
import StarlingTasks
import StarlingTrust

/// A request's answer: per example, the class scores and where they were computed.
public struct InferOutcome: Sendable, Equatable {
    public let classes: Int
    /// rows × classes, row-major.
    public let scores: [Float]
    public let computedAt: [ComputedAt]
    /// Why the cloud's answer was not used, when some example fell back to the edge's.
    public let fallbackReason: String?
    public let edgeVersion: UInt64
    public let cloudVersion: UInt64?
}

/// Why a request got no answer at all (never because of the cloud: see `ServingExecutor.infer`).
public enum InferRefusal: Error, Sendable, Equatable {
    /// No such service is served as an edge on this peer: 404.
    case notFound(String)
    /// The request does not fit the service: 400.
    case badRequest(String)
    /// Too many requests in progress: 429.
    case busy(String)
    /// The edge worker cannot answer now (starting, restarting): 503.
    case unavailable(String)

    public var message: String {
        switch self {
        case let .notFound(text), let .badRequest(text), let .busy(text), let .unavailable(text): return text
        }
    }
}

/// The edge's data plane (docs/runtime.md, "Joint inference"): every request is scored by the
/// edge worker; the miner marks the hard examples; those go to one live cloud peer (best measured
/// link quality and load, circuit breaker closed) over a sealed stream, with the service's cloud
/// deadline, and to a second one when the first fails fast and time remains. When no cloud answers
/// in time, the edge's own answer stands, marked `edge-fallback` with the reason, and counted. A
/// request fails only for reasons of its own or of the edge worker, never because of the cloud.
extension ServingExecutor {
    typealias InferCompletion = (Result<InferOutcome, InferRefusal>) -> Void

    func infer(service name: String, values: [Float], rows: Int, features: Int, completion: @escaping InferCompletion) {
        let started = runner.loop.now
        guard let service = service(named: name), let edge = service.workers[.edge] else {
            runner.counters.increment("serving.refused.not_found")
            let elsewhere = services.values.contains { $0.name == name }
            return completion(.failure(.notFound(elsewhere
                ? "this peer serves \(name) as a cloud peer only; send requests to one of its edge peers"
                : "no service named \(name) is served on this peer")))
        }
        guard rows > 0, rows <= InferenceWireLimits.rowsMax, features > 0, values.count == rows * features else {
            service.stats.refused += 1
            return completion(.failure(.badRequest("\(rows) examples of \(features) values do not make \(values.count) values")))
        }
        if let expected = service.features, expected != features {
            service.stats.refused += 1
            return completion(.failure(.badRequest("the examples have \(features) values each; the edge model of \(name) takes \(expected)")))
        }
        guard requestsInFlight < ServingLimits.requestsInFlightMax else {
            service.stats.refused += 1
            runner.counters.increment("serving.refused.busy")
            return completion(.failure(.busy("\(requestsInFlight) requests in progress on this peer "
                + "(ServingLimits.requestsInFlightMax)")))
        }
        guard edge.isReady else {
            service.stats.refused += 1
            runner.counters.increment("serving.refused.edge_not_ready")
            return completion(.failure(.unavailable("the edge worker of \(name) is not serving yet (starting or restarting)")))
        }
        requestsInFlight += 1
        service.stats.requests += 1
        let finish: InferCompletion = { [weak self] result in
            self?.requestsInFlight -= 1
            completion(result)
        }
        edge.score(values, rows: rows, features: features) { [weak self] result in
            guard let self else { return }
            switch result {
            case let .failure(failure):
                service.stats.refused += 1
                switch failure {
                case let .busy(text): finish(.failure(.busy(text)))
                case let .unavailable(text), let .worker(text): finish(.failure(.unavailable("edge worker: \(text)")))
                }
            case let .success(edgeScores):
                service.features = features
                self.mined(service, values: values, rows: rows, features: features, edge: edgeScores, started: started, finish: finish)
            }
        }
    }

    private func mined(_ service: Service, values: [Float], rows: Int, features: Int, edge: InferenceWorker.Scores,
                       started: Instant, finish: @escaping InferCompletion) {
        guard let miner = service.miner else {
            return done(service, edge: edge, rows: rows, cloud: nil, hard: [], fallback: nil, started: started, finish: finish)
        }
        let mined = JointAnswer.mine(scores: edge.values, classes: edge.classes, rows: rows, inputs: values, features: features,
                                     miner: miner)
        let hard = mined.hardRows
        service.stats.badScores += UInt64(mined.badScores.values.reduce(0, +))
        service.stats.hardExamples += UInt64(hard.count)
        // A job's deploy peers have no cloud: hard examples are counted, and answered at the edge.
        guard !hard.isEmpty, service.config.asksCloud else {
            return done(service, edge: edge, rows: rows, cloud: nil, hard: [], fallback: nil, started: started, finish: finish)
        }
        var hardValues: [Float] = []
        hardValues.reserveCapacity(hard.count * features)
        for row in hard { hardValues.append(contentsOf: values[(row * features)..<((row + 1) * features)]) }
        askCloud(service, values: hardValues, rows: hard.count, features: features, deadline: started + service.cloudTimeout,
                 tried: [], attempt: 1) { [weak self] result in
            guard let self else { return }
            switch result {
            case let .success(cloud) where cloud.classes == edge.classes:
                self.keep(service, values: hardValues, features: features, cloud: cloud)
                self.done(service, edge: edge, rows: rows, cloud: cloud, hard: hard, fallback: nil, started: started, finish: finish)
            case let .success(cloud):
                self.done(service, edge: edge, rows: rows, cloud: nil, hard: hard,
                          fallback: "the cloud model scores \(cloud.classes) classes, the edge model \(edge.classes)",
                          started: started, finish: finish)
            case let .failure(failure):
                self.done(service, edge: edge, rows: rows, cloud: nil, hard: hard, fallback: failure.reason, started: started,
                          finish: finish)
            }
        }
    }

    private func done(_ service: Service, edge: InferenceWorker.Scores, rows: Int, cloud: InferenceWorker.Scores?, hard: [Int],
                      fallback: String?, started: Instant, finish: InferCompletion) {
        let (scores, computedAt) = JointAnswer.combine(edge: edge.values, classes: edge.classes, rows: rows, hardRows: hard,
                                                       cloud: cloud?.values)
        let path: ComputedAt = hard.isEmpty ? .edge : (cloud != nil ? .cloud : .edgeFallback)
        service.stats.examples[.edge, default: 0] += UInt64(rows - hard.count)
        if !hard.isEmpty { service.stats.examples[path, default: 0] += UInt64(hard.count) }
        if let fallback {
            runner.counters.increment("serving.fallbacks")
            service.stats.fallbackReasons[Self.reasonKey(fallback), default: 0] += 1
        }
        service.stats.record(path, latencySeconds: Double((runner.loop.now - started).nanoseconds) / 1e9)
        finish(.success(InferOutcome(classes: edge.classes, scores: scores, computedAt: computedAt, fallbackReason: fallback,
                                     edgeVersion: edge.version, cloudVersion: cloud?.version)))
    }

    /// Adds the hard examples the cloud answered, labelled with the cloud's class, to the
    /// service's hard-example dataset (`HardExampleDataset`); what is still buffered afterwards is
    /// written within `ServingLimits.hardExamplesFlushInterval`.
    private func keep(_ service: Service, values: [Float], features: Int, cloud: InferenceWorker.Scores) {
        guard let dataset = service.hardExamples else { return }
        let labels = JointAnswer.classes(of: cloud.values, classes: cloud.classes)
        for (row, label) in labels.enumerated() {
            let (kept, written) = dataset.append(features: values[(row * features)..<((row + 1) * features)], label: label)
            runner.counters.increment(kept == .kept ? "serving.hard_examples_kept" : "serving.hard_examples_dropped")
            if let written { hardExamplesWritten(service, written) }
        }
        guard dataset.buffered > 0, service.hardExamplesTimer == nil else { return }
        guard let timer = try? LoopTimer(loop: runner.loop) else { return flushHardExamples(service) }
        service.hardExamplesTimer = timer
        timer.start(after: ServingLimits.hardExamplesFlushInterval) { [weak self, weak service] in
            guard let self, let service else { return }
            service.hardExamplesTimer?.close()
            service.hardExamplesTimer = nil
            self.flushHardExamples(service)
        }
    }

    /// Writes the service's buffered hard examples now.
    func flushHardExamples(_ service: Service) {
        guard let written = service.hardExamples?.flush() else { return }
        hardExamplesWritten(service, written)
    }

    /// Counts a batch of hard examples written (and declares the dataset's new size) or lost.
    private func hardExamplesWritten(_ service: Service, _ written: Result<Int, RuntimeError>) {
        switch written {
        case let .success(rows):
            runner.counters.increment("serving.hard_examples_written", by: UInt64(rows))
            runner.datasetsChanged()
        case let .failure(error):
            runner.counters.increment("serving.hard_examples_not_written")
            runner.log(.warning, "service \(service.name): hard examples not written to dataset "
                + "\(service.hardExamples?.name ?? "-"): \(error)")
        }
    }

    /// A fallback reason without its peer-specific details, so the reasons stay a small set.
    static func reasonKey(_ reason: String) -> String {
        if reason.hasPrefix("no cloud peer") { return "no cloud peer" }
        if reason.contains("timed out") || reason.contains("deadline") { return "cloud deadline passed" }
        if reason.contains("unreachable") { return "cloud unreachable" }
        if reason.contains("refused") { return "cloud refused" }
        if reason.contains("classes") { return "cloud model mismatch" }
        return "cloud unreachable"
    }

    // MARK: The cloud leg

    private func askCloud(_ service: Service, values: [Float], rows: Int, features: Int, deadline: Instant, tried: Set<NodeID>,
                          attempt: Int, completion: @escaping (Result<InferenceWorker.Scores, CloudLegFailure>) -> Void) {
        guard let network else { return completion(.failure("no cloud peer: this runtime has no network")) }
        let now = runner.loop.now
        let remaining = deadline - now
        guard remaining > .milliseconds(1) else { return completion(.failure("the cloud deadline passed")) }
        let up = Dictionary(network.members().map { ($0.node, $0) }, uniquingKeysWith: { first, _ in first })
        let candidates = service.cloudPeers.compactMap { node -> CloudRouter.Candidate? in
            if node == network.me {
                // Served here too: no network leg at all, so it ranks first while its worker is ready.
                return service.workers[.cloud]?.isReady == true ? CloudRouter.Candidate(node: node, linkQuality: 2) : nil
            }
            guard let member = up[node], member.state == .alive || member.state == .suspect else { return nil }
            return CloudRouter.Candidate(node: node, linkQuality: network.linkQuality(node))
        }
        guard let chosen = router.choose(among: candidates, excluding: tried, now: now) else {
            return completion(.failure(tried.isEmpty
                ? "no cloud peer can be asked (\(service.cloudPeers.isEmpty ? "the deployment has none" : "none is up, or all back off after failures"))"
                : "no other cloud peer can be asked"))
        }
        let answer: (Result<InferenceWorker.Scores, CloudLegFailure>) -> Void = { [weak self] result in
            guard let self else { return }
            switch result {
            case .success:
                self.router.succeeded(chosen)
                completion(result)
            case let .failure(reason):
                self.router.failed(chosen, now: self.runner.loop.now)
                self.runner.counters.increment("serving.cloud_failures")
                if attempt < ServingLimits.cloudAttemptsMax, deadline - self.runner.loop.now > .milliseconds(5) {
                    self.askCloud(service, values: values, rows: rows, features: features, deadline: deadline,
                                  tried: tried.union([chosen]), attempt: attempt + 1, completion: completion)
                } else {
                    completion(.failure(reason))
                }
            }
        }
        if chosen == network.me {
            scoreLocally(service, values: values, rows: rows, features: features, within: remaining, answer: answer)
        } else if let member = up[chosen] {
            sendToCloud(service, values: values, rows: rows, features: features, to: member, within: remaining, network: network,
                        answer: answer)
        } else {
            answer(.failure("cloud peer \(chosen.short) is not a member"))
        }
    }

    private func scoreLocally(_ service: Service, values: [Float], rows: Int, features: Int, within: Duration,
                              answer: @escaping (Result<InferenceWorker.Scores, CloudLegFailure>) -> Void) {
        guard let cloud = service.workers[.cloud] else { return answer(.failure("the cloud worker stopped here")) }
        var answered = false
        let timer = try? LoopTimer(loop: runner.loop)
        timer?.start(after: within) {
            timer?.close()
            guard !answered else { return }
            answered = true
            answer(.failure("the local cloud worker did not answer before the cloud deadline"))
        }
        cloud.score(values, rows: rows, features: features) { result in
            timer?.close()
            guard !answered else { return }
            answered = true
            switch result {
            case let .success(scores): answer(.success(scores))
            case let .failure(failure): answer(.failure("the local cloud worker: \(failure.message)"))
            }
        }
    }

    private func sendToCloud(_ service: Service, values: [Float], rows: Int, features: Int, to member: MemberView, within: Duration,
                             network: Network, answer: @escaping (Result<InferenceWorker.Scores, CloudLegFailure>) -> Void) {
        guard let keys = network.keys(member.node.publicKey) else { return answer(.failure("no keys for \(member.name)")) }
        let body = InferRequestBody(task: service.task, deadlineMillis: UInt64(max(1, within.nanoseconds / 1_000_000)), rows: rows,
                                    features: features, values: values)
        let sealed = InferenceSealing.sealRequest(body, requester: network.identity, keys: keys, using: &random)
        runner.counters.increment("serving.cloud_requests")
        network.send(sealed.bytes, member.address, within) { result in
            switch result {
            case let .success(bytes):
                do {
                    switch try InferenceSealing.openResponse(bytes, requestNonce: sealed.nonce, keys: keys) {
                    case let .scores(version, classes, scores) where scores.count == rows * classes:
                        answer(.success(InferenceWorker.Scores(classes: classes, values: scores, version: version)))
                    case .scores:
                        answer(.failure("\(member.name) answered scores for another number of examples"))
                    case let .refused(reason):
                        answer(.failure("\(member.name) refused: \(reason)"))
                    }
                } catch {
                    answer(.failure("\(member.name)'s answer does not open: \(error)"))
                }
            case .failure(.timedOut):
                answer(.failure("\(member.name) timed out (cloud deadline)"))
            case let .failure(failure):
                answer(.failure("\(member.name) unreachable: \(failure)"))
            }
        }
    }
}

/// Why the cloud leg gave no answer (the request falls back to the edge's).
struct CloudLegFailure: Error, ExpressibleByStringInterpolation {
    let reason: String

    init(stringLiteral value: String) { reason = value }
    init(stringInterpolation: DefaultStringInterpolation) { reason = String(stringInterpolation: stringInterpolation) }
}

extension ServingExecutor {
    /// A call from another thread, through `InferenceGateway`.
    func handle(_ call: GatewayCall) {
        switch call {
        case let .infer(service, values, rows, features, reply):
            infer(service: service, values: values, rows: rows, features: features) { reply($0) }
        case let .describe(name, reply):
            guard let service = service(named: name), let edge = service.workers[.edge] else { return reply(nil) }
            reply(ServiceDescription(name: name, ready: edge.isReady, version: service.served[.edge] ?? 0))
        }
    }
}
