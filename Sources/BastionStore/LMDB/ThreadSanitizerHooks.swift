#if canImport(Glibc)
    import Glibc
#endif

/// ThreadSanitizer does not see how Synchronization's `Mutex` hands a contended lock to the next
/// thread on Linux (the kernel does it, through a priority-inheriting futex), so it reports what
/// the lock protects as raced when threads contend for it; 20 lines of four threads appending to
/// a `Mutex<[Int]>` show it (docs/SECURITY.md, "ThreadSanitizer"). Code whose `Mutex` is contended
/// by design (the store engine's state, which writers, backups and map growth on several threads
/// take) tells ThreadSanitizer about it with these hooks. They are ThreadSanitizer's own annotation functions
/// in a build with `-sanitize=thread`, looked up once, and do nothing in any other build.
enum ThreadSanitizerHooks {
    private typealias Annotation = @convention(c) (UnsafeRawPointer?) -> Void

    private static let acquireHook: Annotation? = lookup("__tsan_acquire")
    private static let releaseHook: Annotation? = lookup("__tsan_release")

    private static func lookup(_ name: String) -> Annotation? {
        // RTLD_DEFAULT: the sanitizer's runtime is linked into the executable.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(symbol, to: Annotation.self)
    }

    /// Call right after taking the lock that `owner` stands for.
    @inline(__always)
    static func acquired(_ owner: AnyObject) {
        acquireHook?(UnsafeRawPointer(Unmanaged.passUnretained(owner).toOpaque()))
    }

    /// Call right before releasing it.
    @inline(__always)
    static func releasing(_ owner: AnyObject) {
        releaseHook?(UnsafeRawPointer(Unmanaged.passUnretained(owner).toOpaque()))
    }
}
