#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Blocking Unix-domain socket calls, for the two places that must not involve a loop: checking
/// whether another peer already listens on a socket path (the runtime, before it serves one), and
/// `LocalClient`.
public enum UnixSocket {
    public enum PathState: Equatable {
        case absent
        /// A socket file nobody listens on (a peer that was killed): safe to remove.
        case stale
        case listening
        /// Something else is at the path; never removed.
        case notASocket
    }

    public static func errorText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    /// Nil, or why `path` cannot name a socket.
    public static func lengthProblem(_ path: String) -> String? {
        guard path.utf8.count > LocalAPILimits.unixSocketPathBytesMax else { return nil }
        return "\(path): socket path is \(path.utf8.count) bytes, over the system limit of "
            + "\(LocalAPILimits.unixSocketPathBytesMax); use a data directory with a shorter path"
    }

    public static func state(of path: String) -> PathState {
        var status = stat()
        guard lstat(path, &status) == 0 else { return .absent }
        guard status.st_mode & S_IFMT == S_IFSOCK else { return .notASocket }
        switch connect(to: path) {
        case let .success(descriptor):
            Glibc.close(descriptor)
            return .listening
        case .failure:
            return .stale
        }
    }

    /// A connected socket, or the errno of the failed connect.
    static func connect(to path: String) -> Result<Int32, ConnectError> {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return .failure(ConnectError(code: errno)) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8.prefix(LocalAPILimits.unixSocketPathBytesMax))
        withUnsafeMutableBytes(of: &address.sun_path) { target in
            target.copyBytes(from: bytes)
            target[bytes.count] = 0
        }
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard status == 0 else {
            let code = errno
            Glibc.close(descriptor)
            return .failure(ConnectError(code: code))
        }
        return .success(descriptor)
    }

    struct ConnectError: Error { let code: Int32 }

    /// Writes everything, waiting at most until `deadline` (milliseconds of `monotonicMilliseconds`).
    static func writeAll(_ descriptor: Int32, _ bytes: [UInt8], deadline: Int64) throws(ConnectError) {
        var offset = 0
        while offset < bytes.count {
            try wait(descriptor, for: Int16(POLLOUT), deadline: deadline)
            let written = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw ConnectError(code: errno)
            }
            offset += written
        }
    }

    /// Reads up to and excluding the first newline (or to end of stream), at most `limit` bytes.
    static func readLine(_ descriptor: Int32, limit: Int, deadline: Int64) throws(ConnectError) -> [UInt8] {
        var line: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            try wait(descriptor, for: Int16(POLLIN), deadline: deadline)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress!, $0.count, 0) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw ConnectError(code: errno)
            }
            if count == 0 { return line }
            if let newline = chunk[..<count].firstIndex(of: UInt8(ascii: "\n")) {
                line.append(contentsOf: chunk[..<newline])
                return line
            }
            line.append(contentsOf: chunk[..<count])
            if line.count > limit { throw ConnectError(code: EMSGSIZE) }
        }
    }

    static func monotonicMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }

    private static func wait(_ descriptor: Int32, for events: Int16, deadline: Int64) throws(ConnectError) {
        while true {
            let remaining = deadline - monotonicMilliseconds()
            guard remaining > 0 else { throw ConnectError(code: ETIMEDOUT) }
            var request = pollfd(fd: descriptor, events: events, revents: 0)
            let ready = poll(&request, 1, Int32(min(remaining, Int64(Int32.max))))
            if ready > 0 { return }
            if ready == 0 { throw ConnectError(code: ETIMEDOUT) }
            if errno != EINTR { throw ConnectError(code: errno) }
        }
    }
}
