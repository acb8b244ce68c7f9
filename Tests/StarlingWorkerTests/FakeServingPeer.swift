import Foundation
import StarlingLocalAPI
#if canImport(Glibc)
import Glibc
#endif

/// A peer's end of inference-worker connections for the tests: a Unix socket listening in a
/// temporary directory; `accept` hands the next connection to a closure on a thread.
final class FakeServingPeer: @unchecked Sendable {
    let directory: String
    let socketPath: String
    private let listener: Int32

    init() throws {
        directory = NSTemporaryDirectory() + "stw-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        socketPath = directory + "/peer.sock"
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socketPath.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { target in
            target.copyBytes(from: bytes)
            target[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 4) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    deinit {
        close(listener)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `session` with the next connection on a thread; `done` is signalled when it returns.
    func accept(_ session: @escaping @Sendable (ServeConnection) throws -> Void) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        let listener = self.listener
        Thread.detachNewThread {
            let descriptor = Glibc.accept(listener, nil, nil)
            if descriptor >= 0 {
                let connection = ServeConnection(descriptor: descriptor)
                try? session(connection)
                connection.close()
            }
            done.signal()
        }
        return done
    }

    /// A worker's environment naming this peer.
    func environment(role: String = "edge") -> [String: String] {
        ["STARLING_SOCKET": socketPath, "STARLING_TASK": String(repeating: "ab", count: 32), "STARLING_TASK_NAME": "joint",
         "STARLING_WORKER": "edge-worker", "STARLING_WORKER_TOKEN": "secret", "STARLING_DATASET_PATH": "",
         "STARLING_WORK_DIR": directory, "STARLING_SEED": "1", "STARLING_PARAMETERS": "{}", "STARLING_ROLE": role,
         "STARLING_SERVICE": "digits"]
    }
}
