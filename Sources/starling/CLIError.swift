import Foundation

/// An error the user can act on: printed as one line, no stack trace, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Wall-clock seconds since the epoch. The only clock read in the trust commands; the cores take
/// `now` as an argument.
func currentUnixTime() -> UInt64 {
    UInt64(max(0, Date().timeIntervalSince1970))
}

/// Runs `body`, turning any library error into a one-line CLIError.
func userFacing<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as CLIError {
        throw error
    } catch {
        throw CLIError("\(error)")
    }
}
