import CLibUV
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one memory convention every libuv handle of this target follows.
///
/// libuv may call a handle's callbacks (write and connect requests with `UV_ECANCELED`, then the
/// close callback) after `uv_close`, and closing is asynchronous. So:
/// - handles are allocated with `calloc` and freed only in the close callback below;
/// - a handle's `data` holds a *retained* reference to the Swift object that owns it, released in
///   that same close callback, so the owner outlives every callback that can reach it;
/// - `EventLoop.close()` can therefore close any handle found by `uv_walk` without knowing its type.
enum UVHandle {

    /// Zeroed memory for one libuv struct (handle or request).
    static func allocate<Handle>(_: Handle.Type) -> UnsafeMutablePointer<Handle> {
        guard let memory = calloc(1, MemoryLayout<Handle>.stride) else {
            fatalError("out of memory allocating \(Handle.self)")
        }
        return memory.bindMemory(to: Handle.self, capacity: 1)
    }

    /// Frees a handle libuv never initialised, or a finished request.
    static func release<Handle>(_ pointer: UnsafeMutablePointer<Handle>) {
        free(UnsafeMutableRawPointer(pointer))
    }

    /// Any handle type seen as the generic `uv_handle_t` (libuv's structs share that prefix).
    static func generic<Handle>(_ handle: UnsafeMutablePointer<Handle>) -> UnsafeMutablePointer<uv_handle_t> {
        UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)
    }

    static func stream<Handle>(_ handle: UnsafeMutablePointer<Handle>) -> UnsafeMutablePointer<uv_stream_t> {
        UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self)
    }

    /// Makes `owner` reachable from the handle's callbacks and keeps it alive until the handle closes.
    static func attach<Handle>(_ owner: AnyObject, to handle: UnsafeMutablePointer<Handle>) {
        generic(handle).pointee.data = Unmanaged.passRetained(owner).toOpaque()
    }

    /// The owner attached to a handle, for use inside its callbacks.
    static func owner<Owner: AnyObject, Handle>(of handle: UnsafeMutablePointer<Handle>?, as _: Owner.Type) -> Owner? {
        guard let handle, let data = generic(handle).pointee.data else { return nil }
        return Unmanaged<Owner>.fromOpaque(data).takeUnretainedValue()
    }

    /// Closes a handle (once; later calls do nothing). Its memory and owner are released when libuv
    /// reports the close.
    static func close<Handle>(_ handle: UnsafeMutablePointer<Handle>) {
        let handle = generic(handle)
        guard uv_is_closing(handle) == 0 else { return }
        uv_close(handle) { handle in
            guard let handle else { return }
            if let data = handle.pointee.data {
                handle.pointee.data = nil
                Unmanaged<AnyObject>.fromOpaque(data).release()
            }
            free(UnsafeMutableRawPointer(handle))
        }
    }
}

/// A Swift object that owns libuv handles and closes them, once (later calls do nothing).
/// `EventLoop.close()` closes each handle it finds through its owner, so the owner knows its handles
/// are gone and never touches them again, even if it outlives the loop.
protocol UVHandleOwner: AnyObject {
    func close()
}
