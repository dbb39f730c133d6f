//! Keeping the app's resident memory close to what it uses. glibc's
//! allocator gives each busy thread an arena of its own and keeps freed
//! memory in them; after a 10,000-service list has been decoded on the
//! runtime's threads, that retained memory was a third of the app's RSS
//! (`make bench-ui`). Two arenas, and a trim after a large list, return it.

/// Fewer malloc arenas (glibc); call before any thread starts.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called at start,
    // before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Hands freed heap memory back to the system (after a large list).
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory at the heap's ends and
    // in free pages; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}
