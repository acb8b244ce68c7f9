import Foundation
import StarlingCrypto
import StarlingLearning
import StarlingLocalAPI
import StarlingMembership
@testable import StarlingPeer
@testable import StarlingRuntime
import StarlingStore
import StarlingTasks
import StarlingTrust

/// A peer with a store, blobs and the local API: a runtime whose fake machine knows itself as its
/// one member (plus whatever a test adds), applies tag updates to that member, and reports the
/// tasks a test gives it.
struct ModelPeer {
    let runtime: PeerRuntime<FakeMachine>
    let script: Script
    let identity: SigningKey
    let directory: String
    let store: Store

    var blobs: BlobService { runtime.blobs! }
    var node: NodeID { NodeID(identity.publicKey) }
    var source: BlobSource { BlobSource(node: node, address: runtime.boundAddress!) }
    var localTags: [String: String] { script.members.first { $0.isLocal }?.tags ?? [:] }

    static func start(on loop: EventLoop, seed: UInt8) throws -> ModelPeer {
        let identity = try SigningKey(seed: Array(repeating: seed, count: 32))
        let directory = temporaryDirectory()
        let store = try Store(directory: directory)
        let script = Script()
        script.members = [MemberView(name: "peer-\(seed)", node: NodeID(identity.publicKey),
                                     address: PeerAddress(host: "127.0.0.1", port: 1), state: .alive, incarnation: 1,
                                     tags: ["role": "edge"], isLocal: true)]
        script.answerControl = { [unowned script] request in
            guard case let .setTags(tags) = request, let index = script.members.firstIndex(where: \.isLocal) else {
                return ControlAnswer(ok: false, message: "unexpected request")
            }
            script.members[index].tags = tags
            return ControlAnswer(ok: true, message: "tags announced")
        }
        let runtime = PeerRuntime(
            machine: FakeMachine(script: script), loop: loop,
            configuration: RuntimeConfiguration(
                listen: PeerAddress(host: "127.0.0.1", port: 0), localAPIDirectory: directory,
                blobs: BlobSettings(directory: "\(directory)/blobs", identity: identity)),
            store: store, logger: quietLogger)
        runtime.isAuthorizedForBlobs = { _ in true }
        try runtime.start()
        return ModelPeer(runtime: runtime, script: script, identity: identity, directory: directory, store: store)
    }

    /// This peer as another's member list shows it.
    func member(state: MemberState = .alive) -> MemberView {
        MemberView(name: script.members[0].name, node: node, address: runtime.boundAddress!, state: state, incarnation: 1,
                   tags: localTags, isLocal: false)
    }

    /// One local API request from a blocking client on another thread, while `loop` runs.
    func request(_ object: [String: Any], on loop: EventLoop) throws -> [String: Any] {
        var line = [UInt8](try JSONSerialization.data(withJSONObject: object))
        line.append(UInt8(ascii: "\n"))
        let request = line
        let directory = directory
        let answer = Background { () -> String in
            do {
                let client = LocalClient(dataDirectory: directory)
                return String(decoding: try client.exchange(request, timeout: LocalAPILimits.modelExportTimeout), as: UTF8.self)
            } catch {
                return "failed: \(error)"
            }
        }
        _ = loop.run(until: { answer.isDone }, timeout: patience)
        let text = answer.value ?? "no answer within \(patience)"
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            return ["ok": false, "message": text]
        }
        return object
    }

    func remove() {
        runtime.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

enum ModelFiles {
    /// A small model: two F32 tensors whose values start at `base`.
    static func weights(_ base: Float, metadata: [String: String] = [:]) throws -> ModelWeights {
        try ModelWeights(tensors: [
            Tensor(name: "bias", shape: [3], values: [base, base + 1, base + 2]),
            Tensor(name: "weight", shape: [3, 2], values: (0..<6).map { base + Float($0) / 10 }),
        ], metadata: metadata)
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// A valid safetensors file whose one tensor is F64 (what the decoder converts, and an import refuses).
    static func float64() -> [UInt8] {
        var header = Array(#"{"w":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}"#.utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        var bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header
        for value in [1.5, -2.0] { bytes += withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
        return bytes
    }
}
