#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few POSIX file operations the store needs, with errors that name the path.
///
/// Written against the C library rather than Foundation because durability needs exact control:
/// create with final permissions (no window where a secret is world-readable), fsync the file,
/// rename over the target, fsync the directory.
public enum POSIXFile {
    public static func errorText() -> String { String(cString: strerror(errno)) }

    /// Writes `bytes` to `path` atomically: temp file in the same directory with `mode`, fsync,
    /// rename, fsync of the directory. Refuses to replace an existing file unless `replace`.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t, replace: Bool) throws {
        if !replace && exists(path) {
            throw StoreError(path, "already exists; refusing to overwrite it (move it away first)")
        }
        let directory = parentDirectory(of: path)
        let temporary = "\(directory)/.\(baseName(of: path)).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw StoreError(path, "cannot create \(temporary): \(errorText())") }
        var closed = false
        defer {
            if !closed { close(descriptor) }
            unlink(temporary)
        }
        // The umask may have narrowed the mode; public files should still be readable as asked.
        guard fchmod(descriptor, mode) == 0 else { throw StoreError(path, "cannot set permissions: \(errorText())") }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress! + written, bytes.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw StoreError(path, "write failed: \(errorText())")
            }
            written += result
        }
        guard fsync(descriptor) == 0 else { throw StoreError(path, "fsync failed: \(errorText())") }
        closed = true
        guard close(descriptor) == 0 else { throw StoreError(path, "close failed: \(errorText())") }
        if !replace && exists(path) { throw StoreError(path, "already exists; refusing to overwrite it (move it away first)") }
        guard rename(temporary, path) == 0 else { throw StoreError(path, "rename failed: \(errorText())") }
        syncDirectory(directory)
    }

    /// Reads a whole file of at most `limit` bytes.
    public static func read(_ path: String, limit: Int) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { throw StoreError(path, "no such file") }
            throw StoreError(path, "cannot open: \(errorText())")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw StoreError(path, "cannot stat: \(errorText())") }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw StoreError(path, "not a regular file") }
        guard Int(status.st_size) <= limit else {
            throw StoreError(path, "is \(status.st_size) bytes, over the limit of \(limit) bytes")
        }
        let size = Int(status.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let result = bytes.withUnsafeMutableBytes { buffer in
                Glibc.read(descriptor, buffer.baseAddress! + done, size - done)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw StoreError(path, "read failed: \(errorText())")
            }
            if result == 0 { break }
            done += result
        }
        return Array(bytes.prefix(done))
    }

    /// Permission bits of a file (no symlink following), or nil when it does not exist.
    public static func mode(of path: String) throws -> mode_t? {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            if errno == ENOENT { return nil }
            throw StoreError(path, "cannot stat: \(errorText())")
        }
        return status.st_mode & 0o7777
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
    }

    /// `mkdir -p` with the given mode for directories it creates.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o700) throws {
        if isDirectory(path) { return }
        let parent = parentDirectory(of: path)
        if parent != path && !parent.isEmpty { try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw StoreError(path, "cannot create directory: \(errorText())")
        }
    }

    public static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT { throw StoreError(path, "cannot remove: \(errorText())") }
    }

    public static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }

    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    public static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
