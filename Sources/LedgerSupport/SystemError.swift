import Foundation

/// The text of the current `errno`.
package func systemError() -> String {
    String(cString: strerror(errno))
}
