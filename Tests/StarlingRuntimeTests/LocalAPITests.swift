import Foundation
import StarlingCrypto
import StarlingLocalAPI
import StarlingMembership
import StarlingPeer
@testable import StarlingRuntime
import StarlingTrust
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct LocalAPITests {
    static func member(_ seed: UInt8, name: String, local: Bool) throws -> MemberView {
        let node = NodeID(try SigningKey(seed: [UInt8](repeating: seed, count: 32)).publicKey)
        return MemberView(name: name, node: node, address: PeerAddress(host: "10.0.0.\(seed)", port: 7946),
                          state: local ? .alive : .suspect, incarnation: UInt64(seed), tags: ["zone": "z\(seed)"],
                          isLocal: local)
    }

    @Test func answersMembersCountersAndErrors() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let loop = try EventLoop()
        defer { loop.close() }
        let script = Script()
        script.members = [try Self.member(2, name: "edge-b", local: false), try Self.member(1, name: "edge-a", local: true)]
        let runtime = try startRuntime(script, on: loop, localAPIDirectory: directory)
        let socketPath = directory + "/starling.sock"
        let mode = try FileManager.default.attributesOfItem(atPath: socketPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let answers = Background { () -> [String] in
            ["members", "counters", "reboot"].map { command in
                do {
                    let line = Array(#"{"command":"\#(command)"}"#.utf8) + [10]
                    return String(decoding: try LocalClient(dataDirectory: directory).exchange(line), as: UTF8.self)
                } catch {
                    return "failed: \(error)"
                }
            }
        }
        #expect(loop.run(until: { answers.isDone }, timeout: patience))
        let lines = try #require(answers.value)
        let members = try JSONDecoder().decode(MembersResponse.self, from: Data(lines[0].utf8)).members
        #expect(members.map(\.name) == ["edge-a", "edge-b"])
        #expect(members[0] == Member(script.members[1]))
        #expect(members[0].local && !members[1].local && members[1].state == "suspect")
        #expect(members[0].node.count == 64 && members[0].address == "10.0.0.1:7946" && members[0].tags == ["zone": "z1"])
        #expect(lines[0].contains(#""incarnation":1"#) && lines[0].contains(#""local":true"#))

        let counters = try JSONDecoder().decode(CountersResponse.self, from: Data(lines[1].utf8)).counters
        #expect(counters["fake.inputs"] == 1)  // .start
        #expect(counters["runtime.local_api.requests"] == 2)

        let error = try JSONDecoder().decode(ErrorResponse.self, from: Data(lines[2].utf8))
        #expect(error.code == .unknownCommand)
        #expect(error.error == "unknown command 'reboot'; known commands: members, counters, keyring, keyring-status, tasks, task-submit, "
            + "task-cancel, worker-poll, worker-submit, worker-fail, worker-evaluated, dataset-add, dataset-append, dataset-list, dataset-remove, model-list, model-import, "
            + "model-remove, model-export, model-versions, model-rollback, task-logs, infer")
        #expect(runtime.counters["local_api.requests"] == 3)
    }

    @Test func malformedRequestsGetAnErrorLine() throws {
        let answer = try #require(LocalAPIResponder.respond(to: Array("members".utf8), members: { [] }, counters: { [:] }).line)
        #expect(String(decoding: answer, as: UTF8.self).hasPrefix(#"{"code":"bad-request","error":"expected one JSON object"#))
        #expect(answer.last == UInt8(ascii: "\n"))
        let empty = try #require(LocalAPIResponder.respond(to: Array(#"{"command":"members"}"#.utf8), members: { [] }, counters: { [:] }).line)
        #expect(String(decoding: empty, as: UTF8.self) == "{\"members\":[]}\n")
    }

    @Test func taskCommandsReachTheMachine() throws {
        var seen: [ControlRequest] = []
        let control: (ControlRequest) -> ControlAnswer = { request in
            seen.append(request)
            return ControlAnswer(ok: true, message: "done", fields: ["id": String(repeating: "ab", count: 32), "name": "t"])
        }
        func answer(_ line: [UInt8]) -> String {
            String(decoding: LocalAPIResponder.respond(to: line, members: { [] }, counters: { [:] }, control: control).line ?? [], as: UTF8.self)
        }
        #expect(answer(LocalRequest.tasks.line) == "{\"tasks\":[]}\n")

        let submitted = answer(LocalRequest.taskSubmit(spec: Base64.encode([1, 2, 3])).line)
        let response = try JSONDecoder().decode(ControlResponse.self, from: Data(submitted.utf8))
        #expect(response.ok && response.fields["name"] == "t" && response.fields["id"]?.count == 64)
        #expect(answer(LocalRequest.taskCancel(task: "abcdef01", reason: "enough").line).contains(#""ok":true"#))
        #expect(answer(LocalRequest.taskCancel(task: "t", reason: nil).line).contains(#""ok":true"#))
        #expect(seen == [.submitTask(specBytes: [1, 2, 3]), .cancelTask("abcdef01", reason: "enough"), .cancelTask("t", reason: "")])

        #expect(answer(Array(#"{"command":"task-submit","spec":"not base64!"}"#.utf8) + [10]).contains("task-submit needs \\\"spec\\\""))
        #expect(answer(Array(#"{"command":"task-cancel"}"#.utf8)).contains("task-cancel needs"))
        #expect(seen.count == 3)
    }

    @Test func refusesASecondPeerAndReplacesAStaleSocket() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socketPath = directory + "/starling.sock"

        // A socket file left by a killed peer: bound, never unlinked, nobody listening.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(socketPath.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        close(stale)
        #expect(FileManager.default.fileExists(atPath: socketPath))

        let loop = try EventLoop()
        defer { loop.close() }
        let first = try startRuntime(Script(), on: loop, localAPIDirectory: directory)
        let second = PeerRuntime(
            machine: FakeMachine(script: Script()), loop: loop,
            configuration: RuntimeConfiguration(listen: PeerAddress(host: "127.0.0.1", port: 0), localAPIDirectory: directory),
            logger: quietLogger)
        let refusal = #expect(throws: RuntimeError.self) { try second.start() }
        #expect(refusal?.description.contains("another peer is already running with data directory \(directory)") == true)

        // Stopping removes the socket; the client then says no peer runs there.
        first.stop()
        #expect(!FileManager.default.fileExists(atPath: socketPath))
        let missing = #expect(throws: LocalClientError.self) { try LocalClient(dataDirectory: directory).line(.members) }
        #expect(missing?.kind == .noPeer)
        #expect(missing?.description == "no peer is running with data directory \(directory) (\(socketPath) not found); "
            + "start one with `starling peer --data-dir \(directory) ...`")

        // Something that is not a socket is never removed.
        _ = FileManager.default.createFile(atPath: socketPath, contents: Data("keep".utf8))
        let third = PeerRuntime(
            machine: FakeMachine(script: Script()), loop: loop,
            configuration: RuntimeConfiguration(listen: PeerAddress(host: "127.0.0.1", port: 0), localAPIDirectory: directory),
            logger: quietLogger)
        let notSocket = #expect(throws: RuntimeError.self) { try third.start() }
        #expect(notSocket?.description.contains("is not a socket") == true)
        #expect(FileManager.default.contents(atPath: socketPath) == Data("keep".utf8))
    }
}
