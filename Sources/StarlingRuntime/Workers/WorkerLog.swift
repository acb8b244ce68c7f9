import StarlingStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A worker's captured stdout and stderr: `<data>/logs/<task id>/<worker>.log`, rotated to
/// `.log.1` past `WorkerLimits.logBytesMax`.
final class WorkerLog {
    let path: String
    private var descriptor: Int32 = -1
    private var size = 0

    init(directory: String, worker: String) {
        path = "\(directory)/\(worker).log"
        try? POSIXFile.makeDirectories(directory)
        open()
    }

    func append(_ text: String) { append(Array(text.utf8)) }

    func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        if size + bytes.count > WorkerLimits.logBytesMax { rotate() }
        guard descriptor >= 0 else { return }
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { break }
                offset += written
            }
            size += offset
        }
    }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    /// The end of the log (the rotated file first), at most `limit` bytes.
    static func tail(path: String, limit: Int) -> [UInt8] {
        var bytes = (try? POSIXFile.read(path + ".1", limit: Int.max)) ?? []
        bytes += (try? POSIXFile.read(path, limit: Int.max)) ?? []
        return bytes.count > limit ? Array(bytes.suffix(limit)) : bytes
    }

    private func open() {
        descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        var info = stat()
        size = descriptor >= 0 && fstat(descriptor, &info) == 0 ? Int(info.st_size) : 0
    }

    private func rotate() {
        close()
        rename(path, path + ".1")
        open()
    }
}
