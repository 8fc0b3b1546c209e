import Foundation
import Synchronization

/// Who may use the control socket: root, the daemon's own user, and members of the configured group.
public final class AccessPolicy: Sendable {
    private let group = Mutex<gid_t?>(nil)

    public init(groupName: String?) { set(groupName: groupName) }

    public func set(groupName: String?) {
        let gid = groupName.flatMap { getgrnam($0)?.pointee.gr_gid }
        group.withLock { $0 = gid }
    }

    func allows(_ uid: UInt32) -> Bool {
        if uid == 0 || uid == getuid() { return true }
        guard let gid = group.withLock({ $0 }), let user = getpwuid(uid) else { return false }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        guard getgrouplist(user.pointee.pw_name, user.pointee.pw_gid, &groups, &count) >= 0 else { return false }
        return groups.prefix(Int(count)).contains(gid)
    }
}
