//! sd_booted: was this machine booted with systemd?

/// True iff `/run/systemd/system/` exists as a directory (lstat: a symlink does not count).
pub fn booted() -> bool {
  std::fs::symlink_metadata("/run/systemd/system").map(|m| m.is_dir()).unwrap_or(false)
}
