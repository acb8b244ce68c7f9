import StarlingCrypto
import StarlingMembership
import StarlingPeer
import StarlingTasks
import StarlingTrust
import Testing

/// The JointInferenceService control plane through `Peer`'s inputs and effects: five peers, 0 and 1
/// cloud peers (the coordinator tags), 2, 3 and 4 edges; models are declared by `model.NAME` tags
/// (`ModelTags`), as `starling model import` declares them. The coordinator resolves the names,
/// commits deployments on the task's line, and every serving peer asks its driver to serve once
/// per deployment and role.
@Suite struct JointInferenceProgramTests {
    static let cloud = [0, 1]
    static let edges = [2, 3, 4]
    static let smallModel = ContentHash.of(Array("small model, first import".utf8))
    static let smallModelAgain = ContentHash.of(Array("small model, imported again".utf8))
    static let bigModel = ContentHash.of(Array("big model".utf8))

    /// Tags: the cloud tag on the cloud peers, and each peer's model declarations.
    static func tags(declaring models: [Int: [String: ContentHash]]) -> (Int) -> [String: String] {
        { peer in
            var tags: [String: String] = cloud.contains(peer) ? [TestSpec.cloudTag.key: TestSpec.cloudTag.value] : [:]
            for (name, hash) in models[peer] ?? [:] { tags[ModelTags.tag(for: name)] = ModelTags.value(for: hash) }
            return tags
        }
    }

    /// The usual declarations: the small model on edge 2, the big one on edge 3.
    static let declared: [Int: [String: ContentHash]] = [2: ["small": smallModel], 3: ["big": bigModel]]

    /// A cluster with `models` declared, the service submitted at edge 4.
    static func submitted(models: [Int: [String: ContentHash]] = declared, taskSettings: TaskSettings = TaskSettings())
        throws -> (PeerCluster, TaskID) {
        var cluster = PeerCluster(count: 5, taskSettings: taskSettings, tags: tags(declaring: models))
        cluster.advance(by: .seconds(1))
        let submitted = cluster.submit(TestSpec.service(), at: 4)
        let id = try #require(submitted)
        return (cluster, id)
    }

    /// Advances until every peer in `peers` follows a deployment that satisfies `condition`.
    @discardableResult
    static func advance(_ cluster: inout PeerCluster, _ id: TaskID, peers: [Int] = Array(0..<5), within limit: Duration = .seconds(30),
                        until condition: (ServiceDeployment) -> Bool) -> Bool {
        cluster.advance(until: { cluster in
            peers.allSatisfy { peer in cluster.deployment(id, at: peer).map(condition) ?? false }
        }, within: limit)
    }

    /// The lines `peer`'s log holds about waiting.
    static func waits(_ cluster: PeerCluster) -> [String] {
        cluster.logs.filter { $0.level == .warning && $0.text.contains("waits:") }.map(\.text)
    }

    @Test func theFirstDeploymentNamesBothModelsAndEveryPeerServesItsRoleOnce() throws {
        var (cluster, id) = try Self.submitted()
        let deployed = Self.advance(&cluster, id) { $0.version == 1 }
        try #require(deployed)
        cluster.advance(by: .seconds(10))

        for peer in 0..<5 {
            let deployment = try #require(cluster.deployment(id, at: peer))
            #expect(deployment.version == 1 && deployment.epoch == 1)
            #expect(deployment.edgeModel == Self.smallModel && deployment.cloudModel == Self.bigModel)
            #expect(deployment.edgePeers == cluster.sortedNodes(Self.edges), "peer \(peer)")
            #expect(deployment.cloudPeers == cluster.sortedNodes(Self.cloud), "peer \(peer)")
            #expect(cluster.view(id, at: peer)?.jointInference?.deployments.count == 1)
        }
        let holder = try #require(cluster.holder(of: id, at: 0))
        #expect(Self.cloud.contains(holder), "a cloud peer coordinates, not \(holder)")
        #expect(cluster.view(id, at: 0)?.jointInference?.current?.coordinator == cluster.nodes[holder])

        // One order per peer, in its role, for version 1, naming where the models are.
        for peer in 0..<5 {
            let orders = cluster.serveOrders(for: id, at: peer)
            #expect(orders.count == 1, "peer \(peer) got \(orders.count) serve orders")
            let work = try #require(orders.first?.work)
            #expect(work.version == 1 && work.service == "serve")
            #expect(work.cloudPeers == cluster.sortedNodes(Self.cloud))
            let role: ServingRole = Self.cloud.contains(peer) ? .cloud : .edge
            #expect(Set(work.roles.keys) == [role], "peer \(peer): \(work.roles.keys)")
            let served = try #require(work.roles[role])
            #expect(served.model == (role == .edge ? Self.smallModel : Self.bigModel))
            #expect(!served.sources.contains { $0.node == cluster.nodes[peer] }, "peer \(peer) is its own source")
            // The declarer first (the other peers of the role only after it).
            let declarer = role == .edge ? 2 : 3
            if peer != declarer { #expect(served.sources.first?.node == cluster.nodes[declarer], "peer \(peer)") }
        }
        #expect(cluster.orders(for: id).allSatisfy { if case .serve = $0.work { return true } else { return false } })
        // The driver's answers are taken: each peer says it serves, and the summary shows it all.
        for peer in 0..<5 {
            let role = Self.cloud.contains(peer) ? "cloud" : "edge"
            #expect(cluster.logs.contains { $0.peer == peer && $0.text.contains("\(role) serves deployment 1") }, "peer \(peer)")
        }
        let service = try #require(cluster.summary(id, at: 4)?.service)
        #expect(service.version == 1 && service.edgePeers.map(\.node) == cluster.sortedNodes(Self.edges))
        #expect(service.cloudPeers.allSatisfy(\.up) && service.hardExampleMining == "CrossEntropy")
        #expect(Self.waits(cluster).isEmpty, "\(Self.waits(cluster))")
    }

    @Test func aFailedRoleIsLoggedAndNotAskedAgainForTheSameVersion() throws {
        var cluster = PeerCluster(count: 5, tags: Self.tags(declaring: Self.declared))
        cluster.driver.servingFailure = { peer, _, _ in peer == 3 ? "no room for the model" : nil }
        cluster.advance(by: .seconds(1))
        let submitted = cluster.submit(TestSpec.service(), at: 4)
        let id = try #require(submitted)
        let deployed = Self.advance(&cluster, id) { $0.version == 1 }
        try #require(deployed)
        cluster.advance(by: .seconds(10))
        let failures = cluster.logs.filter { $0.level == .error && $0.text.contains("cannot serve deployment 1: no room for the model") }
        #expect(failures.map(\.peer) == [3])
        #expect(cluster.serveOrders(for: id, at: 3).count == 1)
    }

    @Test func aReimportedModelIsDeployedAsANewVersionAndServedHot() throws {
        var (cluster, id) = try Self.submitted()
        let deployed = Self.advance(&cluster, id) { $0.version == 1 }
        try #require(deployed)
        cluster.advance(by: .seconds(2))
        let before = cluster.orders.last?.sequence ?? 0

        // `starling model import small` again on edge 2, other contents: its tag's value changes.
        let answer = cluster.control(.setTags([ModelTags.tag(for: "small"): ModelTags.value(for: Self.smallModelAgain)]), at: 2)
        #expect(answer.ok, "\(answer.message)")
        let redeployedAgain = Self.advance(&cluster, id) { $0.version == 2 }
        try #require(redeployedAgain, "no second deployment")
        cluster.advance(by: .seconds(10))

        for peer in 0..<5 {
            let deployment = try #require(cluster.deployment(id, at: peer))
            #expect(deployment.version == 2 && deployment.epoch == 1)
            #expect(deployment.edgeModel == Self.smallModelAgain && deployment.cloudModel == Self.bigModel)
            #expect(deployment.edgePeers == cluster.sortedNodes(Self.edges) && deployment.cloudPeers == cluster.sortedNodes(Self.cloud))
            #expect(cluster.view(id, at: peer)?.jointInference?.deployments.map(\.version) == [1, 2])
        }
        // Every peer is asked once more, for version 2, without being stopped in between.
        let after = cluster.orders(for: id).filter { $0.sequence > before }
        #expect(!after.contains { $0.work.isRelease }, "a serving peer was stopped: \(after.map(\.work))")
        for peer in 0..<5 {
            let orders = cluster.serveOrders(for: id, at: peer).filter { $0.sequence > before }
            #expect(orders.map(\.work.version) == [2], "peer \(peer): \(orders.map(\.work.version))")
            if Self.edges.contains(peer) {
                #expect(orders.first?.work.roles[.edge]?.model == Self.smallModelAgain)
                if peer != 2 { #expect(orders.first?.work.roles[.edge]?.sources.first?.node == cluster.nodes[2]) }
            } else {
                #expect(orders.first?.work.roles[.cloud]?.model == Self.bigModel)
            }
        }
        #expect(cluster.logs.contains { $0.text.contains("deployment 2: edge model \(Self.smallModelAgain.hex.prefix(12))") })
    }

    @Test func whenTheCoordinatorDiesAnotherCloudPeerTakesOverAndDeploysWithoutIt() throws {
        var (cluster, id) = try Self.submitted()
        let deployed = Self.advance(&cluster, id) { $0.version == 1 }
        try #require(deployed)
        cluster.advance(by: .seconds(2))
        let holder = try #require(cluster.holder(of: id, at: 0))
        let survivor = try #require(Self.cloud.first { $0 != holder })
        let before = cluster.orders.last?.sequence ?? 0

        cluster.crash(holder)
        let live = (0..<5).filter { $0 != holder }
        let survivorNode = cluster.nodes[survivor]
        let redeployed = Self.advance(&cluster, id, peers: live, within: .seconds(90)) { $0.cloudPeers == [survivorNode] }
        try #require(redeployed, "no deployment without the dead coordinator")
        // Not before membership declared the holder dead (its lease stood until then).
        #expect(cluster.lastChange(of: holder, to: .dead, at: survivor) != nil, "redeployed before the holder was declared dead")
        cluster.advance(by: .seconds(10))

        let view = try #require(cluster.view(id, at: survivor))
        #expect(view.currentLease?.holder == cluster.nodes[survivor] && (view.currentLease?.epoch ?? 0) >= 2)
        let current = try #require(view.jointInference?.current)
        #expect(current.coordinator == cluster.nodes[survivor])
        #expect(current.version >= 2 && current.deployment.epoch >= 2)
        #expect(current.deployment.edgePeers == cluster.sortedNodes(Self.edges))
        #expect(current.deployment.edgeModel == Self.smallModel && current.deployment.cloudModel == Self.bigModel)
        // The deployments on the line are 1, 2, ...; the live peers agree on the current one.
        for peer in live {
            #expect(cluster.deployment(id, at: peer) == current.deployment, "peer \(peer)")
            let versions = cluster.view(id, at: peer)?.jointInference?.deployments.map(\.version) ?? []
            #expect(versions == Array(1...UInt64(versions.count)), "peer \(peer): \(versions)")
        }
        // Every live peer is asked to serve the new version, edges told of the one cloud peer left.
        for peer in live {
            let orders = cluster.serveOrders(for: id, at: peer).filter { $0.sequence > before }
            let last = try #require(orders.last, "peer \(peer) was not asked to serve again")
            #expect(last.work.version == current.version)
            #expect(last.work.cloudPeers == [cluster.nodes[survivor]])
            #expect(Set(last.work.roles.keys) == (peer == survivor ? [.cloud] : [.edge]))
            #expect(last.work.roles.values.allSatisfy { served in !served.sources.contains { $0.node == cluster.nodes[holder] } })
        }
    }

    @Test func aSuspectedEdgeStaysDeployedUntilItIsDeclaredDead() throws {
        var (cluster, id) = try Self.submitted()
        let deployed = Self.advance(&cluster, id) { $0.version == 1 }
        try #require(deployed)
        cluster.advance(by: .seconds(2))
        let holder = try #require(cluster.holder(of: id, at: 0))
        // Edge 4 stops answering long enough to be suspected, and comes back before it is declared dead.
        cluster.isolated = [4]
        let suspected = cluster.advance(until: { cluster in cluster.lastChange(of: 4, to: .suspect, at: holder) != nil },
                                        within: .seconds(20))
        try #require(suspected)
        cluster.advance(by: .seconds(1))
        cluster.isolated = []
        cluster.advance(by: .seconds(20))
        #expect(cluster.lastChange(of: 4, to: .dead, at: holder) == nil, "edge 4 was declared dead: the test waited too long")
        // Edge 4 is in every deployment: its suspicion changed nothing. (Another peer declared dead
        // meanwhile, as the manual clock sometimes has it, is rightly dropped.)
        let deployments = cluster.view(id, at: holder)?.jointInference?.deployments.map(\.deployment) ?? []
        #expect(!deployments.isEmpty && deployments.allSatisfy { $0.edgePeers.contains(cluster.nodes[4]) },
                "edge 4 left a deployment while only suspected: \(deployments.map { $0.edgePeers.compactMap { cluster.nodes.firstIndex(of: $0) } })")
        for (index, deployment) in deployments.enumerated().dropFirst() {
            let dropped = Set(deployments[index - 1].edgePeers).subtracting(deployment.edgePeers)
            #expect(dropped.allSatisfy { node in cluster.nodes.firstIndex(of: node).map { cluster.lastChange(of: $0, to: .dead, at: holder) != nil } ?? false },
                    "deployment \(deployment.version) dropped a peer never declared dead")
        }
    }

    @Test func conflictingDeclarationsDeployNothingAndAreLoggedOnce() throws {
        var models = Self.declared
        models[4] = ["small": Self.smallModelAgain]
        var (cluster, id) = try Self.submitted(models: models)
        cluster.advance(by: .seconds(30))
        #expect((0..<5).allSatisfy { cluster.deployment(id, at: $0) == nil })
        #expect((0..<5).allSatisfy { cluster.view(id, at: $0)?.currentLease != nil }, "nobody coordinates")
        let waits = Self.waits(cluster)
        #expect(waits.count == 1, "\(waits)")
        #expect(waits.first?.contains("edge model: peers declare different models named small") == true, "\(waits)")
        #expect(waits.first?.contains("\(Self.smallModel.hex.prefix(12)) by node-2") == true, "\(waits)")
        #expect(waits.first?.contains("\(Self.smallModelAgain.hex.prefix(12)) by node-4") == true, "\(waits)")
        #expect(cluster.serveOrders(for: id).isEmpty)

        // Peer 4 removes its model: the name resolves, and the service is deployed.
        #expect(cluster.control(.setTags([:]), at: 4).ok)
        let deployed = Self.advance(&cluster, id) { $0.version == 1 && $0.edgeModel == Self.smallModel }
        try #require(deployed)
    }

    @Test func aMissingModelIsWaitedForAndLoggedOnce() throws {
        var (cluster, id) = try Self.submitted(models: [2: ["small": Self.smallModel]])
        cluster.advance(by: .seconds(30))
        #expect((0..<5).allSatisfy { cluster.deployment(id, at: $0) == nil })
        let waits = Self.waits(cluster)
        #expect(waits.count == 1, "\(waits)")
        #expect(waits.first?.contains("cloud model: no live peer declares a model named big") == true, "\(waits)")

        #expect(cluster.control(.setTags([ModelTags.tag(for: "big"): ModelTags.value(for: Self.bigModel)]), at: 3).ok)
        let deployed = Self.advance(&cluster, id) { $0.version == 1 && $0.cloudModel == Self.bigModel }
        try #require(deployed)
        #expect(Self.waits(cluster).count == 1)
    }

    @Test func aFederatedTasksCommittedModelResolvesByTheTasksName() throws {
        var cluster = PeerCluster(count: 5, tags: Self.tags(declaring: [3: ["big": Self.bigModel]]))
        cluster.advance(by: .seconds(1))
        let submittedTraining = cluster.submit(TestSpec.federated(name: "small", minNodeNumber: 2, rounds: 2), at: 0)
        let training = try #require(submittedTraining)
        let completed = cluster.advance(until: { cluster in
            (0..<5).allSatisfy { cluster.view(training, at: $0)?.phase == .completed }
        }, within: .seconds(60))
        try #require(completed)
        let last = try #require(cluster.view(training, at: 0)?.committedRounds.last)
        #expect(last.round == 2 && last.modelHash != ModelHash.none)

        let submitted = cluster.submit(TestSpec.service(), at: 4)
        let id = try #require(submitted)
        let deployed = Self.advance(&cluster, id) { $0.version == 1 }
        try #require(deployed)
        let deployment = try #require(cluster.deployment(id, at: 2))
        #expect(deployment.edgeModel == last.modelHash && deployment.cloudModel == Self.bigModel)
        // Edges fetch it from the peer that committed it first.
        for peer in Self.edges where cluster.nodes[peer] != last.coordinator {
            let order = try #require(cluster.serveOrders(for: id, at: peer).last)
            #expect(order.work.roles[.edge]?.sources.first?.node == last.coordinator, "peer \(peer)")
        }
    }

    @Test func aCancelReleasesEveryServingPeer() throws {
        var (cluster, id) = try Self.submitted()
        let deployed = Self.advance(&cluster, id) { $0.version == 1 }
        try #require(deployed)
        cluster.advance(by: .seconds(5))
        let answer = cluster.control(.cancelTask(id.text, reason: "replaced by another service"), at: 4)
        #expect(answer.ok, "\(answer.message)")
        let cancelledAt = cluster.orders.last?.sequence ?? 0
        cluster.advance(by: .seconds(10))
        for peer in 0..<5 {
            #expect(cluster.view(id, at: peer)?.phase == .cancelled, "peer \(peer)")
            let after = cluster.orders(for: id, at: peer).filter { $0.sequence > cancelledAt }
            #expect(after.count == 1 && after.allSatisfy { $0.work.isRelease }, "peer \(peer): \(after.map(\.work))")
        }
    }
}
