#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure of the blob store: a file that cannot be read, written or renamed, or one that does
/// not hold what it should. Names the path.
public struct BlobStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
    init(_ path: String, _ problem: String) { description = "\(path): \(problem)" }
}

/// One open file of the blob store, read and written at offsets (`pread`/`pwrite`), so no blob is
/// ever held whole in memory. Closed when released.
final class BlobFile {
    let path: String
    private let descriptor: Int32

    private static func errorText() -> String { String(cString: strerror(errno)) }

    /// Opens an existing file for reading.
    static func openForReading(_ path: String) throws -> BlobFile { try BlobFile(path, O_RDONLY, 0) }

    /// Opens a file for reading and writing, creating it (mode 0644) when absent.
    static func openForWriting(_ path: String, exclusive: Bool = false) throws -> BlobFile {
        try BlobFile(path, O_RDWR | O_CREAT | (exclusive ? O_EXCL : 0), 0o644)
    }

    private init(_ path: String, _ flags: Int32, _ mode: mode_t) throws {
        self.path = path
        descriptor = open(path, flags | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw BlobStoreError(path, "cannot open: \(Self.errorText())") }
    }

    deinit { close(descriptor) }

    var size: UInt64 {
        get throws {
            var status = stat()
            guard fstat(descriptor, &status) == 0 else { throw BlobStoreError(path, "cannot stat: \(Self.errorText())") }
            return UInt64(status.st_size)
        }
    }

    /// Exactly `count` bytes at `offset` (fewer is an error: the file is shorter than it should be).
    func read(count: Int, at offset: UInt64) throws -> [UInt8] {
        let bytes = try readUpTo(count: count, at: offset)
        guard bytes.count == count else { throw BlobStoreError(path, "ends before byte \(offset + UInt64(count))") }
        return bytes
    }

    /// Up to `count` bytes at `offset`; fewer only at the end of the file.
    func readUpTo(count: Int, at offset: UInt64) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let result = bytes.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw BlobStoreError(path, "read failed: \(Self.errorText())")
            }
            if result == 0 { break }
            done += result
        }
        if done < count { bytes.removeLast(count - done) }
        return bytes
    }

    func write<C: Collection>(_ bytes: C, at offset: UInt64) throws where C.Element == UInt8 {
        let contiguous = Array(bytes)
        var done = 0
        while done < contiguous.count {
            let result = contiguous.withUnsafeBytes { buffer in
                pwrite(descriptor, buffer.baseAddress! + done, contiguous.count - done, off_t(offset) + off_t(done))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw BlobStoreError(path, "write failed: \(Self.errorText())")
            }
            done += result
        }
    }

    func truncate(to size: UInt64) throws {
        guard ftruncate(descriptor, off_t(size)) == 0 else { throw BlobStoreError(path, "cannot truncate: \(Self.errorText())") }
    }

    func sync() throws {
        guard fsync(descriptor) == 0 else { throw BlobStoreError(path, "fsync failed: \(Self.errorText())") }
    }

    // MARK: Paths

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT { throw BlobStoreError(path, "cannot remove: \(errorText())") }
    }

    /// Renames and makes the rename durable (fsync of the target's directory).
    static func rename(_ from: String, to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw BlobStoreError(to, "cannot rename \(from) here: \(errorText())") }
        syncDirectory(parent(of: to))
    }

    static func makeDirectories(_ path: String) throws {
        var status = stat()
        if stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR { return }
        let parent = parent(of: path)
        if parent != path && !parent.isEmpty && parent != "." { try makeDirectories(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw BlobStoreError(path, "cannot create directory: \(errorText())")
        }
    }

    static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Writes a small file atomically: a temporary name beside it, fsync, rename.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temporary = "\(path).tmp-\(getpid())"
        try remove(temporary)
        do {
            let file = try openForWriting(temporary, exclusive: true)
            try file.write(bytes, at: 0)
            try file.sync()
        }
        try rename(temporary, to: path)
    }

    /// A whole small file of at most `limit` bytes.
    static func readAll(_ path: String, limit: Int) throws -> [UInt8] {
        let file = try openForReading(path)
        let size = try file.size
        guard size <= UInt64(limit) else { throw BlobStoreError(path, "is \(size) bytes, over the limit of \(limit)") }
        return try file.read(count: Int(size), at: 0)
    }
}
