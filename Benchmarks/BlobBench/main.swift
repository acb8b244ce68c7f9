// Loopback blob transfer: `swift run -c release starling-bench-blobs [MB]` (docs/benchmarks.md).
// Three peers on one loop and one thread: A imports a blob, B fetches it from A, then C fetches it
// from A and B (B serves, A is the fallback). Sealing, hashing, disk writes and both ends of every
// connection share the one core, so the figures are a floor for two machines.
import Foundation
import StarlingCrypto
import StarlingMembership
import StarlingPeer
import StarlingRuntime
import StarlingTrust

struct NullMachine: PeerMachine {
    mutating func handle<R: RandomNumberGenerator>(_ input: PeerInput, now: Instant, random: inout R) -> [PeerEffect] { [] }
    var members: [MemberView] { [] }
    var counters: [String: UInt64] { [:] }
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func run() throws {
    let megabytes = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 100
    let root = "/tmp/starling-bench-blobs-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: root) }
    let loop = try EventLoop()
    defer { loop.close() }
    var peers: [PeerRuntime<NullMachine>] = []
    for seed in UInt8(1)...3 {
        let identity = try SigningKey(seed: Array(repeating: seed, count: 32))
        let runtime = PeerRuntime(
            machine: NullMachine(), loop: loop,
            configuration: RuntimeConfiguration(
                listen: PeerAddress(host: "127.0.0.1", port: 0),
                blobs: BlobSettings(directory: "\(root)/\(seed)/blobs", identity: identity)))
        runtime.isAuthorizedForBlobs = { _ in true }
        try runtime.start()
        peers.append(runtime)
    }
    func source(_ runtime: PeerRuntime<NullMachine>) -> BlobService.Source {
        BlobService.Source(node: runtime.blobs!.node, address: runtime.boundAddress!)
    }

    // The file to import, written a megabyte at a time.
    let file = "\(root)/model.bin"
    guard FileManager.default.createFile(atPath: file, contents: nil) else { fatalError("cannot create \(file)") }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
    var random = DeterministicRandom(seed: 42)
    for _ in 0..<megabytes {
        var block = [UInt8](repeating: 0, count: 1 << 20)
        for index in stride(from: 0, to: block.count, by: 8) {
            withUnsafeBytes(of: random.next()) { block.replaceSubrange(index..<(index + 8), with: $0) }
        }
        handle.write(Data(block))
    }
    try handle.close()
    let bytes = Double(megabytes)

    var start = ContinuousClock.now
    let id = try peers[0].blobs!.importFile(at: file)
    print(String(format: "import %d MB: %.2f s (%.0f MB/s)", megabytes, seconds(since: start), bytes / seconds(since: start)))

    for (fetcher, sources) in [(1, [0]), (2, [0, 1])] {
        var result: Result<String, BlobFetchError>?
        start = ContinuousClock.now
        peers[fetcher].blobs!.fetch(id, sources: sources.map { source(peers[$0]) }) { result = $0 }
        _ = loop.run(until: { result != nil }, timeout: .seconds(600))
        let elapsed = seconds(since: start)
        guard case .success = result else { fatalError("fetch failed: \(String(describing: result))") }
        let served = peers.map { String(format: "%.0f", Double($0.blobs!.bytesServed) / 1_048_576) }
        print(String(format: "fetch %d MB from %@: %.2f s (%.0f MB/s); MB served so far by A, B, C: %@",
                     megabytes, sources.map { ["A", "B", "C"][$0] }.joined(separator: "+"), elapsed, bytes / elapsed,
                     served.joined(separator: ", ")))
    }
    for peer in peers { peer.stop() }
}

try run()
