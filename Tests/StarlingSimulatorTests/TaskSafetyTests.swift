import StarlingCrypto
import StarlingMembership
import StarlingPeer
import StarlingTasks
import StarlingTrust
import Testing
@testable import StarlingSimulator

/// A real peer whose task views one node falsifies from a given (local) time: the task tracker's
/// safety check must name the check, the time and the node.
struct TamperingMachine: PeerMachine {
    var inner: Peer
    let tampers: Bool
    let from: Instant
    let tamper: (inout TaskSummary) -> Void
    var now = Instant.zero

    mutating func handle<R: RandomNumberGenerator>(_ input: PeerInput, now: Instant, random: inout R) -> [PeerEffect] {
        self.now = now
        return inner.handle(input, now: now, random: &random)
    }

    var members: [MemberView] { inner.members }
    var reportsMemberChanges: Bool { inner.reportsMemberChanges }
    func forEachMemberState(_ body: (NodeID, MemberState) -> Void) { inner.forEachMemberState(body) }
    var counters: [String: UInt64] { inner.counters }
    var tasks: [TaskSummary] {
        var tasks = inner.tasks
        if tampers && now >= from { for index in tasks.indices { tamper(&tasks[index]) } }
        return tasks
    }

    mutating func control<R: RandomNumberGenerator>(_ request: ControlRequest, now: Instant, random: inout R)
        -> (answer: ControlAnswer, effects: [PeerEffect]) {
        inner.control(request, now: now, random: &random)
    }
}

@Suite struct TaskSafetyTests {
    static let scenario = """
        duration: 60s
        nodes: 6
        warm_start: true
        roles: [peer, coordinator, submit]
        network: {delay: {base: 2ms..5ms}}
        events:
          - at: 2s
            submit: tasks/federated-6.yaml
            to: node-1
        checks: {heal_at: 30s, convergence: 30s}
        """

    /// Runs the scenario with node-4 applying `tamper` to its task views from 15 s on.
    static func run(tamper: @escaping (inout TaskSummary) -> Void) throws -> SimulationReport {
        let scenario = try TaskScenarioTests.parse(Self.scenario)
        let options = TaskScenarioTests.options(seed: 3, file: "inline") { setup in
            TamperingMachine(inner: Peer(setup: setup), tampers: setup.certificate.name == "node-4",
                             from: .seconds(15), tamper: tamper)
        }
        return try ScenarioRun(scenario, options: options).run()
    }

    static func violations(_ report: SimulationReport, _ check: String) -> [Violation] {
        report.violations.filter { $0.check == check }
    }

    @Test func anHonestRunPasses() throws {
        let report = try Self.run { _ in }
        #expect(report.passed, "\(report.rendered)")
        #expect(report.tasks.first?.roundsCommitted == 6 && report.tasks.first?.phase == "completed", "\(report.rendered)")
    }

    @Test func aRoundCommittedTwiceIsCaught() throws {
        let report = try Self.run { summary in
            if let last = summary.committed.last { summary.committed.append(last) }
        }
        let found = Self.violations(report, "task-line")
        #expect(found.count == 1, "\(report.rendered)")
        #expect(found.first.map { $0.time >= 15 && $0.time < 15.5 } == true)
        #expect(found.first?.message.contains("at node-4") == true && found.first?.message.contains("twice") == true)
        #expect(!report.passed && report.rendered.contains("reproduce:"))
    }

    @Test func aLostAgreedCommitIsCaught() throws {
        let report = try Self.run { summary in
            if !summary.committed.isEmpty { summary.committed.removeFirst() }
        }
        let lost = Self.violations(report, "task-lost-commit")
        #expect(lost.count == 1 && lost.first?.message.contains("node-4") == true, "\(report.rendered)")
        #expect(lost.first?.message.contains("round 1 (epoch 1") == true, "\(report.rendered)")
        #expect(lost.first.map { $0.time >= 15 && $0.time < 15.5 } == true)
        #expect(!Self.violations(report, "task-line").isEmpty, "rounds 2...n are not 1...n either")
    }

    @Test func aCommitAboveTheLeaseEpochIsCaught() throws {
        let report = try Self.run { summary in summary.epoch = 0 }
        let fenced = Self.violations(report, "task-fencing")
        #expect(fenced.count == 1 && fenced.first?.message.contains("at node-4") == true, "\(report.rendered)")
    }

    @Test func differentEntriesAfterTheHealAreALivenessFailure() throws {
        let report = try Self.run { summary in summary.digest = ContentHash.of([1, 2, 3]) }
        let late = Self.violations(report, "task-convergence")
        #expect(late.count == 1, "\(report.rendered)")
        #expect(late.first.map { $0.time >= 60 && $0.message.contains("node-4 hold(s) other entries than the 5 other node(s)") } == true,
                "\(report.rendered)")
        #expect(Self.violations(report, "task-line").isEmpty && Self.violations(report, "task-lost-commit").isEmpty)
    }

    /// The rules alone, on crafted views: an agreed commit may not vanish from a node that showed
    /// it; one only some nodes held may be superseded; a restart starts afresh.
    @Test func agreedCommitsMustStayButUnagreedOnesMaybeSuperseded() throws {
        // Real summaries to start from: one from a short run of one peer.
        let cluster = TaskSimulationTests().cluster(seed: 5, nodes: 3)
        cluster.simulation.run(until: .seconds(2))
        #expect(cluster.simulation.control(0, .submitTask(specBytes: try TaskSimulationTests.specBytes()))?.ok == true)
        cluster.simulation.run(until: .seconds(20))
        let base = try #require(cluster.simulation.tasks(of: 0).first)
        #expect(base.committed.count >= 3)
        let id = base.id
        func view(_ node: Int, _ committed: Int?) -> TaskLineSafety.NodeView {
            var summary = base
            if let committed { summary.committed = Array(base.committed.prefix(committed)) }
            return TaskLineSafety.NodeView(node: node, name: "n\(node)", tasks: committed == nil ? [:] : [id: summary])
        }
        var safety = TaskLineSafety()
        // Round 3 is on one node only, rounds 1-2 on both: 1-2 become agreed.
        #expect(safety.check([view(0, 3), view(1, 2)], tasks: [id]).isEmpty)
        #expect(safety.agreed[id]?.map(\.round).sorted() == [1, 2])
        // Node 0 drops round 3 (never agreed): allowed.
        #expect(safety.check([view(0, 2), view(1, 2)], tasks: [id]).isEmpty)
        // Node 1 drops round 2 (agreed): caught once.
        let problems = safety.check([view(0, 2), view(1, 1)], tasks: [id])
        #expect(problems.map(\.check) == ["task-lost-commit"] && problems.first?.node == 1)
        #expect(safety.check([view(0, 2), view(1, 1)], tasks: [id]).isEmpty, "reported once")
        // Node 0 loses the task: caught; after a restart it may come back without it.
        #expect(safety.check([view(0, nil), view(1, 2)], tasks: [id]).map(\.check) == ["task-lost-commit"])
        safety.restarted(1)
        #expect(safety.check([view(0, 2), view(1, 0)], tasks: [id]).isEmpty)
    }

    /// The rules alone: a commit counting fewer participants than `min_node_number` is a violation.
    @Test func aCommitBelowMinNodeNumberIsAViolation() throws {
        let cluster = TaskSimulationTests().cluster(seed: 5, nodes: 3)
        cluster.simulation.run(until: .seconds(2))
        #expect(cluster.simulation.control(0, .submitTask(specBytes: try TaskSimulationTests.specBytes()))?.ok == true)
        cluster.simulation.run(until: .seconds(20))
        var summary = try #require(cluster.simulation.tasks(of: 0).first)
        #expect(summary.minNodeNumber >= 1 && summary.committed.count >= 2)
        var safety = TaskLineSafety()
        let node = TaskLineSafety.NodeView(node: 0, name: "n0", tasks: [summary.id: summary])
        #expect(safety.check([node], tasks: [summary.id]).isEmpty)
        summary.committed[1].participants = Array(summary.committed[1].participants.prefix(summary.minNodeNumber - 1))
        let short = TaskLineSafety.NodeView(node: 0, name: "n0", tasks: [summary.id: summary])
        let problems = safety.check([short], tasks: [summary.id])
        #expect(problems.map(\.check) == ["task-min-nodes"])
        #expect(problems.first?.message.contains("round 2 (epoch") == true)
    }
}
